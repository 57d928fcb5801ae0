"""Chart geometry: axis tops, ticks, points and bars where the values say, gaps, and the table for screen readers."""

from __future__ import annotations

import pytest

from agents import charts


def ms(value: float) -> str:
    return f"{value:.0f} ms"


def num(value: float) -> str:
    return f"{value:g}"


def test_nice_steps_are_round_and_counts_step_by_whole_numbers() -> None:
    assert charts.nice_step(75) == 100
    assert charts.nice_step(0.3) == 0.5
    assert charts.nice_step(1.25) == 2
    assert charts.nice_step(0.25, integer=True) == 1
    assert charts.nice_step(1.25, integer=True) == 2
    assert charts.nice_step(0) == 1


def line(values: list[float | None], **options: object) -> charts.Chart:
    return charts.chart_build(
        chart_id="c", kind="line", title="Time to first token", x_label="Time", y_label="ms",
        labels=["10:00", "10:05", "10:10"], series=[("p50", values)], fmt=ms, **options,
    )


def test_a_line_chart_places_points_by_value_on_a_round_axis() -> None:
    chart = line([100.0, 200.0, 300.0])
    # Largest 300 over 4 divisions: a step of 75 rounds up to 100, so the axis tops at 400.
    assert [label for _, label in chart.y_ticks] == ["0 ms", "100 ms", "200 ms", "300 ms", "400 ms"]
    plot_height = chart.bottom - chart.top
    points = chart.series[0].marks
    assert points[2].y == pytest.approx(chart.bottom - plot_height * 0.75, abs=0.1)
    band = (chart.right - chart.left) / 3
    assert points[0].x == pytest.approx(chart.left + band / 2, abs=0.1)
    assert len(chart.series[0].segments) == 1 and not chart.empty


def test_a_bucket_without_a_value_breaks_the_line_and_says_no_data_in_the_table() -> None:
    chart = line([100.0, None, 300.0])
    assert len(chart.series[0].segments) == 2 and len(chart.series[0].marks) == 2
    assert chart.table_header == ["p50"]
    assert chart.table_rows == [["10:00", "100 ms"], ["10:05", "no data"], ["10:10", "300 ms"]]
    assert chart.series[0].marks[0].label == "p50, 10:00: 100 ms"


def test_a_chart_without_any_value_is_empty() -> None:
    assert line([None, None, None]).empty


def test_a_fixed_axis_top_holds_rates_and_scores() -> None:
    chart = line([0.25, None, None], y_max=1.0, divisions=4)
    assert chart.y_ticks[-1][0] == chart.top and chart.series[0].marks[0].y == pytest.approx(
        chart.bottom - (chart.bottom - chart.top) / 4, abs=0.1
    )


def test_grouped_bars_sit_side_by_side_with_heights_by_value() -> None:
    chart = charts.chart_build(
        chart_id="v", kind="bar", title="Volume", x_label="Time", y_label="Count", labels=["a", "b"],
        series=[("Conversations", [2, 0]), ("Messages", [4, 1])], fmt=num, integer=True,
    )
    first, second = chart.series[0].marks[0], chart.series[1].marks[0]
    assert second.x > first.x and second.height == pytest.approx(2 * first.height, abs=0.2)
    assert chart.y_ticks[-1][1] == "4" and chart.table_rows[0] == ["a", "2", "4"]


def test_a_bar_chart_of_zeros_is_empty() -> None:
    chart = charts.chart_build(
        chart_id="v", kind="bar", title="Volume", x_label="Time", y_label="Count", labels=["a"],
        series=[("Conversations", [0])], fmt=str,
    )
    assert chart.empty


def test_long_axes_label_only_some_buckets_but_the_table_has_all() -> None:
    labels = [f"{h:02d}:00" for h in range(28)]
    chart = charts.chart_build(
        chart_id="w", kind="line", title="t", x_label="x", y_label="y", labels=labels,
        series=[("s", [1.0] * 28)], fmt=str, row_labels=[f"day {h}" for h in range(28)],
    )
    assert len(chart.x_ticks) == 6 and len(chart.table_rows) == 28 and chart.table_rows[27][0] == "day 27"


def test_table_only_columns_follow_the_series() -> None:
    chart = line([4.0, None, None], table_extra=[("Ratings", ["3", "0", "0"])])
    assert chart.table_header == ["p50", "Ratings"] and chart.table_rows[0] == ["10:00", "4 ms", "3"]


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        charts.chart_build(chart_id="x", kind="pie", title="", x_label="", y_label="", labels=[], series=[], fmt=str)
