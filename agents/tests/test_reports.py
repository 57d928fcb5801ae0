"""The report pages' plain functions: language, period, buckets, and figures written out as cells."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.translation import gettext

from agents import reports
from conversations.stats import dashboard as dashboard_stats
from conversations.stats import profiles as profile_stats

NOW = datetime(2026, 1, 5, 10, 7, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("labels", [reports.PERIOD_LABELS, reports.RANGE_LABELS, reports.BUCKET_LABELS,
                                    reports.NODE_STATE_LABELS])
def test_labels_chosen_by_a_key_read_in_simplified_chinese(labels) -> None:
    # The rest of the pages' words are checked with the whole catalog (tests/test_catalogs.py).
    with translation.override("zh-hans"):
        assert all(re.search(r"[\u4e00-\u9fff]", gettext(label)) for label in labels.values())


@pytest.mark.parametrize(
    ("requested", "negotiated", "expected"),
    [("zh-hans", "en", "zh-hans"), ("", "zh-cn", "zh-hans"), ("fr", "en-gb", "en"), (None, "de", "en")],
)
def test_the_lang_switch_wins_over_the_browser_language(requested, negotiated, expected) -> None:
    assert reports.report_language(requested=requested, negotiated=negotiated) == expected


def test_the_default_period_is_the_last_24_hours() -> None:
    period = reports.compare_period(params={}, now=NOW, tz=UTC, lang="en")
    assert (period.key, period.start, period.end, period.error) == ("24h", NOW - timedelta(hours=24), NOW, "")


def test_a_named_period_reaches_back_from_now() -> None:
    period = reports.compare_period(params={"period": "7d"}, now=NOW, tz=UTC, lang="zh-hans")
    assert period.start == NOW - timedelta(days=7) and period.label == "最近 7 天"


def test_dates_are_whole_local_days_with_the_last_included() -> None:
    period = reports.compare_period(params={"from": "2026-01-01", "to": "2026-01-03"}, now=NOW, tz=SHANGHAI,
                                    lang="en")
    assert period.key == "custom" and period.label == "2026-01-01 to 2026-01-03"
    assert period.start == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert period.end == datetime(2026, 1, 3, 16, 0, tzinfo=UTC)


def test_a_from_date_alone_runs_to_today() -> None:
    period = reports.compare_period(params={"from": "2026-01-04"}, now=NOW, tz=UTC, lang="en")
    assert period.end == datetime(2026, 1, 6, tzinfo=UTC) and period.date_to == "2026-01-05"


@pytest.mark.parametrize("params", [{"from": "2026-01-05", "to": "2026-01-01"}, {"from": "yesterday"},
                                    {"from": "2024-01-01", "to": "2026-01-01"}])
def test_unreadable_backwards_or_too_long_dates_fall_back_with_a_notice(params) -> None:
    period = reports.compare_period(params=params, now=NOW, tz=UTC, lang="en")
    assert period.key == "24h" and period.error


def test_dashboard_ranges_and_their_buckets() -> None:
    key, buckets = reports.dashboard_buckets(range_key="week", now=NOW, tz=UTC)
    assert key == "week" and buckets.size == timedelta(hours=6) and buckets.count == 28
    key, buckets = reports.dashboard_buckets(range_key="nonsense", now=NOW, tz=UTC)
    assert key == "day" and buckets.count == 24 and buckets.end == datetime(2026, 1, 5, 11, tzinfo=UTC)


def test_links_keep_the_other_parameters() -> None:
    assert reports.query_with({"period": "7d", "lang": "en"}, lang="zh-hans") == "period=7d&lang=zh-hans"


def test_compare_table_writes_out_each_figure() -> None:
    column = profile_stats.ProfileStats(
        profile_id=1, name="main", model="deepseek-r1:7b", is_default=True, canary_share=0.0,
        conversations=4, handed_off=1, ttft_p50=250.0, ttft_p95=385.0, total_p50=2500.0, total_p95=3850.0,
        latency_samples=4, tokens_per_second=10.0, bot_replies=6, llm_replies=5, failed_replies=1,
        thumbs_up=2, thumbs_down=1, csat_mean=4.0, csat_count=2, errors_by_kind={"unavailable": 1},
    )
    empty = profile_stats.ProfileStats(profile_id=2, name="r1-14b", model="deepseek-r1:14b", is_default=False,
                               canary_share=12.5)
    table = reports.compare_table(columns=[column, empty], lang="en")
    cells = {row["key"]: row["cells"] for row in table["rows"]}
    assert cells["handoff_rate"] == [("25 %", "1 of 4"), ("no data", "")]
    assert cells["ttft"][0] == ("250 ms / 385 ms", "replies measured: 4")
    assert cells["total"][0][0] == "2,500 ms / 3,850 ms"
    assert cells["tokens_per_second"][0] == ("10.0", "")
    assert cells["feedback"][0] == ("↑ 2 / ↓ 1", "67 % up")
    assert cells["csat"] == [("4.0", "ratings: 2"), ("no data", "")]
    assert cells["errors"][0] == ("1 of 5", "unavailable: 1")
    assert table["headings"][0]["badge"] == "default · 87.5 %"
    assert table["headings"][1] == {"name": "r1-14b", "model": "deepseek-r1:14b", "badge": "canary 12.5 %"}
    assert table["has_data"]


@pytest.mark.django_db
def test_an_empty_window_draws_every_chart_as_no_data() -> None:
    _, buckets = reports.dashboard_buckets(range_key="hour", now=NOW, tz=UTC)
    series = dashboard_stats.dashboard_series(buckets=buckets)
    drawn = reports.dashboard_charts(series=series, range_key="hour", lang="zh-hans", tz=UTC)
    assert len(drawn) == 7 and all(chart.empty for chart in drawn)
    assert drawn[0].table_rows[0][0] == "2026-01-05 09:10–09:15" and drawn[0].title == "会话量"
