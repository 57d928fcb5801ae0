"""Charts for the console's report pages, drawn on the server as inline SVG.

The product runs air-gapped: no chart library, no CDN, no JavaScript. These
functions only do the geometry (where each point, bar, tick and label goes)
and return plain dataclasses; the template `agents/_chart.html` writes the SVG
elements, so every text passes through Django's auto-escaping. Every chart
also carries its figures as table rows, which the template renders as a
visually hidden table for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 480, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 28, 44  # room for the y tick labels, the y-axis title above them, the x labels
MAX_X_LABELS = 6
# Okabe-Ito colours (told apart with the common colour-vision deficiencies, >= 3:1 on white),
# and a dash pattern per line, so series differ by more than colour.
STYLES = [("#0072B2", ""), ("#D55E00", "7 4"), ("#009E73", "2 3"), ("#6A3D9A", "9 3 2 3")]

Values = Sequence[float | None]


@dataclass(frozen=True)
class Mark:
    """A point (line charts: centre x, y, radius) or a bar (x, y, width, height), with its tooltip text."""

    x: float
    y: float
    label: str
    width: float = 0.0
    height: float = 0.0
    # Later series get smaller points, so a p50 and a p95 that coincide still show as two.
    radius: float = 0.0


@dataclass(frozen=True)
class DrawnSeries:
    name: str
    color: str
    dash: str
    # Polylines' "x,y x,y ..." strings: a bucket without a value breaks the line.
    segments: list[str] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    id: str
    kind: str  # "line" or "bar"
    title: str
    x_label: str
    y_label: str
    series: list[DrawnSeries]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    table_header: list[str]
    table_rows: list[list[str]]
    empty: bool
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    @property
    def y_label_at(self) -> tuple[float, float]:
        """Where the y-axis title goes: above the axis, level, so it never collides with the tick labels."""
        return 4.0, 14.0

    @property
    def x_label_y(self) -> int:
        return self.height - 6


def nice_step(raw: float, *, integer: bool = False) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten not below `raw`: a y-axis step that reads well.

    `integer` steps are whole numbers (an axis of counts has no tick at 0.25).
    """
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * power
        if integer and (step < 1 or step != int(step)):
            continue
        if step >= raw * (1 - 1e-9):
            return step
    return 10 * power if not integer else max(1.0, float(math.ceil(10 * power)))


def chart_build(
    *,
    chart_id: str,
    kind: str,
    title: str,
    x_label: str,
    y_label: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Values]],
    fmt: Callable[[float], str],
    tick_fmt: Callable[[float], str] | None = None,
    y_max: float | None = None,
    divisions: int = 4,
    integer: bool = False,
    row_labels: Sequence[str] | None = None,
    table_extra: Sequence[tuple[str, Sequence[str]]] = (),
    no_data: str = "no data",
) -> Chart:
    """Lay out a line chart or a grouped bar chart of `series` over the buckets named by `labels`.

    `fmt` writes a value for tooltips and the table, `tick_fmt` for the y axis
    (default `fmt`); `y_max` fixes the axis top (a rate's 100 %, CSAT's 5),
    otherwise it is `divisions` round steps (whole ones when `integer`) reaching the largest value. `row_labels` name
    the buckets in the table (longer than the axis labels), and `table_extra`
    adds table-only columns (CSAT's number of ratings).
    """
    if kind not in ("line", "bar"):
        raise ValueError(f"unknown chart kind {kind!r}")
    tick_fmt = tick_fmt or fmt
    count = len(labels)
    present = [v for _, values in series for v in values if v is not None]
    empty = not present or (kind == "bar" and not any(present))
    if y_max is not None:
        top_value = y_max
    else:
        top_value = divisions * nice_step(max(present, default=0.0) / divisions, integer=integer)
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    band = (right - left) / max(count, 1)

    def y_of(value: float) -> float:
        return round(bottom - (bottom - top) * min(value, top_value) / top_value, 1)

    drawn = [
        _series_draw(kind=kind, n=n, name=name, values=values, labels=labels, fmt=fmt, band=band,
                     series_count=len(series), y_of=y_of)
        for n, (name, values) in enumerate(series)
    ]

    step = max(1, math.ceil(count / MAX_X_LABELS))
    x_ticks = [(round(left + band * (i + 0.5), 1), labels[i]) for i in range(0, count, step)]
    y_ticks = [(y_of(top_value * k / divisions), tick_fmt(top_value * k / divisions)) for k in range(divisions + 1)]
    names = [name for name, _ in series] + [name for name, _ in table_extra]
    rows = _table_rows(count=count, series=series, table_extra=table_extra, row_labels=row_labels or labels,
                       fmt=fmt, no_data=no_data)
    return Chart(
        id=chart_id, kind=kind, title=title, x_label=x_label, y_label=y_label, series=drawn,
        x_ticks=x_ticks, y_ticks=y_ticks, table_header=names, table_rows=rows, empty=empty,
    )


def _series_draw(
    *, kind: str, n: int, name: str, values: Values, labels: Sequence[str], fmt: Callable[[float], str],
    band: float, series_count: int, y_of: Callable[[float], float],
) -> DrawnSeries:
    """The `n`th series' marks (a bar, or a point, per bucket with a value) and, for lines, its polylines."""
    left, bottom = LEFT, HEIGHT - BOTTOM
    color, dash = STYLES[n % len(STYLES)]
    marks: list[Mark] = []
    segments: list[str] = []
    run: list[str] = []
    for i, value in enumerate(values):
        if value is None:
            if run:
                segments.append(" ".join(run))
            run = []
            continue
        tooltip = f"{name}, {labels[i]}: {fmt(value)}"
        if kind == "bar":
            group = band * 0.8
            width = group / series_count
            x = left + band * i + (band - group) / 2 + width * n
            y = y_of(value)
            marks.append(Mark(x=round(x, 1), y=y, width=round(width - 1, 1), height=round(bottom - y, 1),
                              label=tooltip))
        else:
            x = round(left + band * (i + 0.5), 1)
            y = y_of(value)
            run.append(f"{x},{y}")
            marks.append(Mark(x=x, y=y, label=tooltip, radius=max(2.0, 4.5 - n)))
    if run:
        segments.append(" ".join(run))
    return DrawnSeries(name=name, color=color, dash=dash, segments=segments, marks=marks)


def _table_rows(
    *, count: int, series: Sequence[tuple[str, Values]], table_extra: Sequence[tuple[str, Sequence[str]]],
    row_labels: Sequence[str], fmt: Callable[[float], str], no_data: str,
) -> list[list[str]]:
    """The screen readers' table: a row per bucket, a cell per series and per table-only column."""
    rows = []
    for i in range(count):
        cells = [fmt(values[i]) if values[i] is not None else no_data for _, values in series]
        cells += [column[i] for _, column in table_extra]
        rows.append([row_labels[i], *cells])
    return rows
