"""The console's two report pages: profiles compared, and the operations dashboard.

Plain functions between the views and `conversations.stats`: which language
and period a request asks for, and the figures turned into labelled,
formatted table cells and charts, in the language the page is shown in (each
function's `lang`, from `?lang=` or the browser's; the catalog is locale/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from conversations.stats.buckets import Buckets, buckets_ending_now
from conversations.stats.dashboard import ChannelFigures, DashboardSeries
from conversations.stats.profiles import ProfileStats

from . import charts

LANGUAGES = ("en", "zh-hans")

# Labels chosen by a key of the request or of a node's state, as msgids: translated where they are shown.
PERIOD_LABELS = {"24h": gettext_noop("Last 24 hours"), "7d": gettext_noop("Last 7 days"),
                 "30d": gettext_noop("Last 30 days")}
RANGE_LABELS = {"hour": gettext_noop("Last hour"), "day": gettext_noop("Last day"), "week": gettext_noop("Last week")}
BUCKET_LABELS = {"hour": gettext_noop("5-minute buckets"), "day": gettext_noop("1-hour buckets"),
                 "week": gettext_noop("6-hour buckets")}
NODE_STATE_LABELS = {
    "up": gettext_noop("up, in rotation"), "down": gettext_noop("down"),
    "cooling_down": gettext_noop("cooling down after failures"), "probing": gettext_noop("awaiting a probe"),
    "unknown": gettext_noop("not checked yet"),
}

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
LONGEST_CUSTOM_PERIOD = timedelta(days=366)
# range -> (bucket size, number of buckets)
RANGES = {"hour": (timedelta(minutes=5), 12), "day": (timedelta(hours=1), 24), "week": (timedelta(hours=6), 28)}


def report_language(*, requested: str | None, negotiated: str) -> str:
    """`?lang=` when it names a language the pages have, else the one Django negotiated (Accept-Language)."""
    for candidate in (requested or "", negotiated or ""):
        code = candidate.strip().lower()
        if code in LANGUAGES:
            return code
        if code.startswith("zh"):
            return "zh-hans"
        if code.startswith("en"):
            return "en"
    return "en"


# --- formatting ---------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:,.0f} ms"


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def one_decimal(value: float) -> str:
    return f"{value:.1f}"


def integer(value: float) -> str:
    return f"{value:,.0f}"


def _or_none(value: float | None, fmt: Callable[[float], str]) -> str:
    return fmt(value) if value is not None else _("no data")


# --- profiles compared --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str  # "24h", "7d", "30d" or "custom"
    start: datetime
    end: datetime
    label: str
    error: str = ""
    date_from: str = ""
    date_to: str = ""


def compare_period(*, params: Mapping[str, str], now: datetime, tz: tzinfo, lang: str) -> Period:
    """The period a request asks for: `period=24h|7d|30d`, or `from`/`to` dates (whole local days, inclusive).

    Dates that cannot be read, run backwards or span more than a year fall back
    to the last 24 hours with a notice, rather than an error page.
    """
    with translation.override(lang):
        return _compare_period(params=params, now=now, tz=tz)


def _compare_period(*, params: Mapping[str, str], now: datetime, tz: tzinfo) -> Period:
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    error = ""
    if raw_from or raw_to:
        try:
            first = date.fromisoformat(raw_from) if raw_from else None
            last = date.fromisoformat(raw_to) if raw_to else now.astimezone(tz).date()
            first = first or last
            start = datetime.combine(first, time.min, tzinfo=tz)
            end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
            if first > last or end - start > LONGEST_CUSTOM_PERIOD:
                raise ValueError("dates out of order or too far apart")
            label = _("%(start)s to %(end)s") % {"start": first.isoformat(), "end": last.isoformat()}
            return Period("custom", start, end, label, date_from=first.isoformat(), date_to=last.isoformat())
        except ValueError:
            error = _("Those dates could not be read; showing the last 24 hours.")
    key = params.get("period") if params.get("period") in PERIODS and not error else "24h"
    return Period(key, now - PERIODS[key], now, _(PERIOD_LABELS[key]), error=error)


def _profile_heading(column: ProfileStats, *, default_share: float) -> dict[str, str]:
    if column.profile_id is None:
        return {"name": _("no profile"), "model": "", "badge": ""}
    if column.is_default:
        badge = _("default · %(share)s %%") % {"share": f"{default_share:g}"}
    elif column.canary_share > 0:
        badge = _("canary %(share)s %%") % {"share": f"{column.canary_share:g}"}
    else:
        badge = _("canary, rolled back")
    return {"name": column.name, "model": column.model, "badge": badge}


def compare_table(*, columns: list[ProfileStats], lang: str) -> dict[str, Any]:
    """The comparison as a table: one column per profile, one row per figure, cells already written out.

    Each cell is (main text, detail text); "no data" where a figure has nothing to measure.
    """
    with translation.override(lang):
        return _compare_table(columns)


def _compare_table(columns: list[ProfileStats]) -> dict[str, Any]:
    nd = _("no data")
    # The default answers whatever new conversations the live canaries (all of them have a column) leave.
    default_share = max(0.0, 100.0 - sum(c.canary_share for c in columns if not c.is_default))

    def pair(low: float | None, high: float | None) -> str:
        return f"{ms(low)} / {ms(high)}" if low is not None and high is not None else nd

    def of(part: int, whole: int) -> str:
        return _("%(part)s of %(whole)s") % {"part": part, "whole": whole}

    rows: list[dict[str, Any]] = []

    def row(key: str, label: str, cells: list[tuple[str, str]], hint: str = "") -> None:
        rows.append({"label": label, "key": key, "hint": hint, "cells": cells})

    row("conversations", _("Conversations started"), [(integer(c.conversations), "") for c in columns])
    row("handoff_rate", _("Handed to a human"), [
        (_or_none(c.handoff_rate, percent), of(c.handed_off, c.conversations) if c.conversations else "")
        for c in columns
    ])
    samples = [
        _("replies measured: %(n)s") % {"n": c.latency_samples} if c.latency_samples else "" for c in columns
    ]
    row("ttft", _("Time to first token p50 / p95"),
        [(pair(c.ttft_p50, c.ttft_p95), s) for c, s in zip(columns, samples, strict=True)])
    row("total", _("Reply time p50 / p95"),
        [(pair(c.total_p50, c.total_p95), s) for c, s in zip(columns, samples, strict=True)])
    row("tokens_per_second", _("Tokens per second"),
        [(_or_none(c.tokens_per_second, one_decimal), "") for c in columns],
        hint=_("tokens generated (reasoning included) / Ollama call time"))
    row("bot_replies", _("Bot replies"), [
        (integer(c.bot_replies), _("by the model: %(n)s") % {"n": c.llm_replies} if c.bot_replies else "")
        for c in columns
    ])
    row("feedback", _("Thumbs up / down"), [
        (f"↑ {c.thumbs_up} / ↓ {c.thumbs_down}" if c.thumbs_up + c.thumbs_down else nd,
         _("%(share)s up") % {"share": percent(c.thumbs_up_share)} if c.thumbs_up_share is not None else "")
        for c in columns
    ])
    row("csat", _("CSAT (1-5)"), [
        (_or_none(c.csat_mean, one_decimal), _ratings(c.csat_count) if c.csat_count else "") for c in columns
    ])
    row("errors", _("Failed bot replies"), [
        (of(c.failed_replies, c.llm_replies) if c.llm_replies else nd,
         ", ".join(f"{kind}: {n}" for kind, n in sorted(c.errors_by_kind.items())))
        for c in columns
    ])
    return {
        "headings": [_profile_heading(c, default_share=default_share) for c in columns],
        "rows": rows,
        "has_data": any(c.has_data for c in columns),
    }


def _ratings(count: int) -> str:
    return _("ratings: %(n)s") % {"n": count}


# --- the dashboard ------------------------------------------------------------------------------------


def dashboard_buckets(*, range_key: str, now: datetime, tz: tzinfo) -> tuple[str, Buckets]:
    """`range=hour|day|week` (else day) as aligned time buckets ending with the one now filling."""
    key = range_key if range_key in RANGES else "day"
    size, count = RANGES[key]
    return key, buckets_ending_now(now=now, size=size, count=count, tz=tz)


def _bucket_labels(buckets: Buckets, *, tz: tzinfo) -> tuple[list[str], list[str]]:
    """Short axis labels, and longer table labels (start to end) in local time."""
    axis, rows = [], []
    long_range = buckets.size * buckets.count > timedelta(days=1)
    for low, high in buckets.edges():
        low_local, high_local = low.astimezone(tz), high.astimezone(tz)
        axis.append(low_local.strftime("%m-%d %H:%M" if long_range else "%H:%M"))
        rows.append(f"{low_local:%Y-%m-%d %H:%M}–{high_local:%H:%M}")
    return axis, rows


def _tz_name(tz: tzinfo, moment: datetime) -> str:
    offset = moment.astimezone(tz).strftime("%z")
    name = str(getattr(tz, "key", "") or tz)
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return utc if name in ("UTC", utc) else f"{name}, {utc}"


def dashboard_charts(
    *, series: DashboardSeries, range_key: str, lang: str, tz: tzinfo
) -> list[charts.Chart]:
    with translation.override(lang):
        return _dashboard_charts(series=series, range_key=range_key, tz=tz)


def _dashboard_charts(*, series: DashboardSeries, range_key: str, tz: tzinfo) -> list[charts.Chart]:
    labels, row_labels = _bucket_labels(series.buckets, tz=tz)
    x_label = _("Time (%(buckets)s, %(tz)s)") % {
        "buckets": _(BUCKET_LABELS[range_key]), "tz": _tz_name(tz, series.buckets.end)
    }
    common = {"labels": labels, "row_labels": row_labels, "x_label": x_label, "no_data": _("no data")}
    count, milliseconds, percentage = _("Count"), _("Milliseconds"), _("Percent")
    p50, p95 = _("p50"), _("p95")
    return [
        charts.chart_build(
            chart_id="chart-volume", kind="bar", title=_("Volume"), y_label=count, fmt=integer, integer=True,
            series=[(_("Conversations started"), series.conversations),
                    (_("Customer messages"), series.customer_messages)],
            **common,
        ),
        charts.chart_build(
            chart_id="chart-ttft", kind="line", title=_("Time to first token"), y_label=milliseconds, fmt=ms,
            tick_fmt=integer, series=[(p50, series.ttft_p50), (p95, series.ttft_p95)], **common,
        ),
        charts.chart_build(
            chart_id="chart-total", kind="line", title=_("Reply time"), y_label=milliseconds, fmt=ms,
            tick_fmt=integer, series=[(p50, series.total_p50), (p95, series.total_p95)], **common,
        ),
        charts.chart_build(
            chart_id="chart-resolution", kind="bar", title=_("Resolution: bot or human"), y_label=count,
            fmt=integer, integer=True,
            series=[
                (_("Resolved, no agent"), series.resolved_by_bot),
                (_("Resolved with an agent"), series.resolved_with_human),
                (_("Started, bot alone"), series.bot_alone),
            ],
            **common,
        ),
        charts.chart_build(
            chart_id="chart-handoff", kind="line", title=_("Handoff rate"), y_label=percentage, fmt=percent,
            y_max=1.0, series=[(_("Handed to a human"), series.handoff_rate)], **common,
        ),
        charts.chart_build(
            chart_id="chart-csat", kind="line", title=_("Customer satisfaction (CSAT)"), y_label=_("Score (1-5)"),
            fmt=one_decimal, y_max=5.0, divisions=5,
            series=[(_("Mean score"), series.csat_mean)],
            table_extra=[(_("Ratings"), [str(n) for n in series.csat_count])], **common,
        ),
        charts.chart_build(
            chart_id="chart-sources", kind="line", title=_("Answers from the cache and FAQ"), y_label=percentage,
            fmt=percent, y_max=1.0,
            series=[(_("Answer cache hits"), series.cache_rate), (_("FAQ direct answers"), series.faq_rate)],
            **common,
        ),
    ]


def dashboard_summary(*, series: DashboardSeries, lang: str) -> list[tuple[str, str]]:
    """The range's headline figures, as (label, value) pairs."""
    totals = series.totals
    with translation.override(lang):
        return [
            (_("Conversations started"), integer(totals["conversations"])),
            (_("Customer messages"), integer(totals["customer_messages"])),
            (_("First token p50"), _or_none(totals["ttft_p50"], ms)),
            (_("Reply time p50"), _or_none(totals["total_p50"], ms)),
            (_("Handed to a human"), _or_none(totals["handoff_rate"], percent)),
            (_("Resolved, no agent"), integer(totals["resolved_by_bot"])),
            (_("Resolved with an agent"), integer(totals["resolved_with_human"])),
            (_("CSAT (1-5)"), _or_none(totals["csat_mean"], one_decimal)
             + (f" ({_ratings(totals['csat_count'])})" if totals["csat_count"] else "")),
            (_("Cache hit rate"), _or_none(totals["cache_rate"], percent)),
            (_("FAQ answers"), _or_none(totals["faq_rate"], percent)),
        ]


# --- channels -----------------------------------------------------------------------------------------


def channel_requested(value: str | None) -> str | None:
    """The `?channel=` to restrict the dashboard to: None (every channel) when absent or blank. Any other value
    is taken as it is (it only ever filters, and the page escapes it), so an unknown one counts nothing."""
    value = (value or "").strip()
    return value or None


def channel_label(channel: str | None) -> str:
    """A channel in words, in the active language: "web" is the website's widget, "app:<name>" an app."""
    if channel is None:
        return _("Not counted by channel")
    if channel == "web":
        return _("Website")
    if channel.startswith("app:"):
        return _("App: %(name)s") % {"name": channel.removeprefix("app:")}
    return channel


def channel_options(*, seen: list[str], current: str | None, lang: str) -> list[dict[str, Any]]:
    """The filter's options: every channel seen, and the requested one even if never seen (so the select shows
    what the page counts), after "All channels"."""
    channels = seen if current is None or current in seen else [*seen, current]
    with translation.override(lang):
        return [{"value": "", "label": _("All channels"), "current": current is None}] + [
            {"value": channel, "label": channel_label(channel), "current": channel == current} for channel in channels
        ]


def channel_rows(
    *, compared: list[ChannelFigures], params: Mapping[str, str], lang: str
) -> list[dict[str, str]]:
    """The breakdown table's rows: each channel's conversations, share of all, handoff and deflection rates,
    and a link that filters the dashboard to it (none for days not counted by channel)."""
    total = sum(c.conversations for c in compared)
    with translation.override(lang):
        return [
            {
                "label": channel_label(c.channel),
                "query": query_with(params, channel=c.channel) if c.channel is not None else "",
                "conversations": integer(c.conversations),
                "share": percent(c.conversations / total),
                "handoff_rate": _or_none(c.handoff_rate, percent),
                "deflection_rate": _or_none(c.deflection_rate, percent),
            }
            for c in compared
        ]


def channel_notice(*, series: DashboardSeries, seen: list[str], lang: str) -> str:
    """What a one-channel view must say: that days summarized before channels were counted are left out, or that
    the channel has no stored conversation nor any counted in the range; "" when there is nothing to say."""
    if series.channel is None:
        return ""
    with translation.override(lang):
        days = series.days_without_channels
        if days:  # first: the channel may well have been seen on those days, which cannot tell
            return ngettext(
                "%(days)d day of this range was summarized before conversations were counted by channel: "
                "it is left out of these figures.",
                "%(days)d days of this range were summarized before conversations were counted by channel: "
                "they are left out of these figures.",
                days,
            ) % {"days": days}
        if series.channel not in seen:
            return _(
                "No conversation on the channel “%(channel)s” is stored, nor counted in this range: its figures "
                "are empty."
            ) % {"channel": series.channel}
        return ""


# --- links --------------------------------------------------------------------------------------------


def query_with(params: Mapping[str, str], **changes: str) -> str:
    """`params` as a query string with `changes` applied (the language switch keeps the period, and so on)."""
    merged = {key: params[key] for key in params if key not in changes}
    merged.update(changes)
    return urlencode({key: value for key, value in merged.items() if value})


def window_label(*, start: datetime, end: datetime, tz: tzinfo) -> str:
    """The exact span shown, in local time: "2026-01-05 09:10 – 2026-01-05 10:10 (Asia/Shanghai, UTC+08:00)"."""
    return f"{start.astimezone(tz):%Y-%m-%d %H:%M} – {end.astimezone(tz):%Y-%m-%d %H:%M} ({_tz_name(tz, end)})"


def nodes_panel(*, states: list[Any], chat_model: str, lang: str, now: float) -> tuple[list[dict[str, str]], str]:
    """The dashboard's node panel (what `manage.py ollama_status` prints): a row per Ollama node, and a
    warning when none can serve the chat model."""
    with translation.override(lang):
        notice = "" if any(s.serves(chat_model) for s in states) else (
            _("No node can serve %(model)s.") % {"model": chat_model}
        )
    return nodes_rows(states=states, chat_model=chat_model, lang=lang, now=now), notice


def nodes_rows(*, states: list[Any], chat_model: str, lang: str, now: float) -> list[dict[str, str]]:
    with translation.override(lang):
        return [_node_row(state, chat_model=chat_model, now=now) for state in states]


def _node_row(state: Any, *, chat_model: str, now: float) -> dict[str, str]:
    view = state.as_dict()
    health = state.health
    has_model = health is not None and health.up and not state.lacks(chat_model)
    pulled, missing = _("pulled"), _("missing")  # not inside the f-string, where makemessages cannot see them
    return {
        "host": state.host,
        "state": view["state"],
        "state_label": _(NODE_STATE_LABELS[view["state"]]),
        "version": health.version if health and health.version else "–",
        "latency": f"{health.latency_ms:.0f} ms" if health and health.latency_ms is not None else "–",
        "in_flight": str(state.in_flight),
        "model": f"{chat_model}: {pulled if has_model else missing}",
        "model_ok": "1" if has_model else "",
        "loaded": ", ".join(health.loaded) if health and health.loaded else "–",
        "checked": _("%(n)s s ago") % {"n": round(now - health.checked_at)} if health else "–",
        "error": health.error if health and health.error else "",
    }
