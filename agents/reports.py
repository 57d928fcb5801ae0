"""The console's two report pages: profiles compared, and the operations dashboard.

Plain functions between the views and `conversations.stats`: which language
and period a request asks for, and the figures turned into labelled,
formatted table cells and charts. The console itself is translated in the
browser (static/console.js); these pages are rendered on the server, so their
English and Simplified Chinese labels live here, in one small dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from conversations import stats

from . import charts

LANGUAGES = ("en", "zh-hans")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "console": "Console", "skip": "Skip to the figures",
        "compare": "Compare profiles", "dashboard": "Dashboard", "logout": "Sign out",
        "language": "Language", "no_data": "no data", "no_data_period": "No conversations or replies in this period.",
        "compare_title": "Model profiles side by side", "period": "Period", "from": "From", "to": "To",
        "show": "Show", "period_24h": "Last 24 hours", "period_7d": "Last 7 days", "period_30d": "Last 30 days",
        "period_custom": "{start} to {end}", "bad_dates": "Those dates could not be read; showing the last 24 hours.",
        "metric": "Figure", "default": "default · {share} %", "canary": "canary {share} %",
        "rolled_back": "canary, rolled back",
        "no_profile": "no profile", "model": "Model",
        "conversations": "Conversations started", "handoff_rate": "Handed to a human",
        "ttft": "Time to first token p50 / p95", "total": "Reply time p50 / p95", "tokens_per_second":
        "Tokens per second", "feedback": "Thumbs up / down", "csat": "CSAT (1-5)", "errors": "Failed bot replies",
        "bot_replies": "Bot replies", "of": "{part} of {whole}", "from_replies": "replies measured: {n}",
        "by_model": "by the model: {n}", "ratings": "ratings: {n}",
        "tokens_per_second_hint": "tokens generated (reasoning included) / Ollama call time", "up_share": "{share} up",
        "explain_title": "How these are counted",
        "explain_compare": (
            "Conversations count in the period they started in, under the profile they were given; replies count"
            " when they were written, under the profile that wrote them. Handed to a human: went to the human"
            " queue, or an agent took over or wrote in it. Latencies are those of complete replies written by the"
            " model (not FAQ or cache answers), from at most the latest {cap} per profile. Tokens per second:"
            " every token the model generated for those replies (its reasoning included) divided by the time of"
            " the Ollama calls from request to last token (so prompt processing and queueing count too); it"
            " compares profiles' real throughput, not the GPU's raw decoding speed."
        ),
        "dashboard_title": "Operations dashboard", "range": "Range", "range_hour": "Last hour",
        "range_day": "Last day", "range_week": "Last week",
        "bucket_hour": "5-minute buckets", "bucket_day": "1-hour buckets", "bucket_week": "6-hour buckets",
        "time": "Time", "time_axis": "Time ({buckets}, {tz})", "count": "Count", "ms": "Milliseconds",
        "percent": "Percent", "score": "Score (1-5)",
        "chart_volume": "Volume", "customer_messages": "Customer messages",
        "chart_ttft": "Time to first token", "chart_total": "Reply time", "p50": "p50", "p95": "p95",
        "chart_resolution": "Resolution: bot or human", "resolved_by_bot": "Resolved, no agent",
        "resolved_with_human": "Resolved with an agent", "bot_alone": "Started, bot alone",
        "chart_handoff": "Handoff rate", "chart_csat": "Customer satisfaction (CSAT)", "csat_mean": "Mean score",
        "csat_count": "Ratings", "chart_sources": "Answers from the cache and FAQ",
        "cache_rate": "Answer cache hits", "faq_rate": "FAQ direct answers",
        "nodes": "Ollama nodes", "node": "Node", "node_state": "State", "node_version": "Version",
        "node_latency": "Latency", "node_in_flight": "In flight", "node_models": "Chat model",
        "node_loaded": "Loaded", "node_checked": "Checked", "node_error": "Problem",
        "state_up": "up, in rotation", "state_down": "down", "state_cooling_down": "cooling down after failures",
        "state_probing": "awaiting a probe", "state_unknown": "not checked yet", "model_missing": "missing",
        "model_pulled": "pulled", "seconds_ago": "{n} s ago", "nodes_none": "No node can serve {model}.",
        "summary": "Over the whole range", "summary_ttft": "First token p50", "summary_total": "Reply time p50",
        "summary_cache": "Cache hit rate", "summary_faq": "FAQ answers",
        "explain_dashboard": (
            "Conversations count in the bucket they started in (handoff rate; \"bot alone\": the bot replied and"
            " no human was involved); resolutions in the bucket they were resolved in (\"no agent\": no agent"
            " ever held it or wrote in it); CSAT in the bucket of the resolution; messages when written."
            " Latencies: complete replies written by the model. Cache and FAQ shares are of all bot replies."
        ),
    },
    "zh-hans": {
        "console": "工作台", "skip": "跳到数据", "compare": "模型配置对比", "dashboard": "运营看板", "logout": "退出",
        "language": "语言", "no_data": "无数据", "no_data_period": "此时段内没有会话或回复。",
        "compare_title": "模型配置对比", "period": "时段", "from": "开始日期", "to": "结束日期",
        "show": "查看", "period_24h": "最近 24 小时", "period_7d": "最近 7 天", "period_30d": "最近 30 天",
        "period_custom": "{start} 至 {end}", "bad_dates": "日期无法识别，显示最近 24 小时。",
        "metric": "指标", "default": "默认 · {share} %", "canary": "灰度 {share} %", "rolled_back": "灰度（已回滚）",
        "no_profile": "无配置", "model": "模型",
        "conversations": "新会话数", "handoff_rate": "转人工率",
        "ttft": "首字延迟 p50 / p95", "total": "回复耗时 p50 / p95", "tokens_per_second": "每秒生成 token 数",
        "feedback": "点赞 / 点踩", "csat": "满意度（1-5）", "errors": "机器人回复失败",
        "bot_replies": "机器人回复数", "of": "{whole} 个中 {part} 个", "from_replies": "基于 {n} 条回复",
        "by_model": "模型生成 {n} 条", "ratings": "{n} 份评分",
        "tokens_per_second_hint": "生成的 token 数（含推理）/ Ollama 调用时长", "up_share": "好评 {share}",
        "explain_title": "统计口径",
        "explain_compare": (
            "会话按开始时间计入时段，归属分配给它的模型配置；回复按生成时间计入，归属生成它的配置。"
            "转人工：进入人工队列，或有客服接管、回复过。延迟只统计模型生成且完整的回复（不含常见问题和缓存答案），"
            "每个配置最多取最近 {cap} 条。每秒 token 数：这些回复中模型生成的全部 token（含推理过程）"
            "除以 Ollama 调用从请求到最后一个 token 的时间（包含提示词处理和排队），"
            "反映各配置的实际吞吐，而非 GPU 的纯解码速度。"
        ),
        "dashboard_title": "运营看板", "range": "范围", "range_hour": "最近 1 小时",
        "range_day": "最近 1 天", "range_week": "最近 1 周",
        "bucket_hour": "每 5 分钟", "bucket_day": "每小时", "bucket_week": "每 6 小时",
        "time": "时间", "time_axis": "时间（{buckets}，{tz}）", "count": "数量", "ms": "毫秒",
        "percent": "百分比", "score": "评分（1-5）",
        "chart_volume": "会话量", "customer_messages": "客户消息数",
        "chart_ttft": "首字延迟", "chart_total": "回复耗时", "p50": "p50", "p95": "p95",
        "chart_resolution": "解决方式：机器人或人工", "resolved_by_bot": "已解决（无客服参与）",
        "resolved_with_human": "已解决（有客服参与）", "bot_alone": "新会话（机器人独立处理）",
        "chart_handoff": "转人工率", "chart_csat": "客户满意度", "csat_mean": "平均分",
        "csat_count": "评分数", "chart_sources": "缓存与常见问题直接回答",
        "cache_rate": "答案缓存命中", "faq_rate": "常见问题直接回答",
        "nodes": "Ollama 节点", "node": "节点", "node_state": "状态", "node_version": "版本",
        "node_latency": "延迟", "node_in_flight": "处理中", "node_models": "对话模型",
        "node_loaded": "已加载", "node_checked": "检查时间", "node_error": "问题",
        "state_up": "正常，参与分配", "state_down": "离线", "state_cooling_down": "多次失败，暂停分配",
        "state_probing": "等待探测", "state_unknown": "尚未检查", "model_missing": "未下载",
        "model_pulled": "已下载", "seconds_ago": "{n} 秒前", "nodes_none": "没有节点能提供 {model}。",
        "summary": "整个范围合计", "summary_ttft": "首字延迟 p50", "summary_total": "回复耗时 p50",
        "summary_cache": "缓存命中率", "summary_faq": "常见问题回答占比",
        "explain_dashboard": (
            "会话按开始时间分段（转人工率；“机器人独立处理”：机器人回复过且无人工参与）；"
            "解决按解决时间分段（“无客服参与”：从未有客服接管或回复）；满意度按解决时间分段；消息按发送时间分段。"
            "延迟只统计模型生成且完整的回复。缓存和常见问题占比以全部机器人回复为分母。"
        ),
    },
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


def _or_none(value: float | None, fmt: Callable[[float], str], t: Mapping[str, str]) -> str:
    return fmt(value) if value is not None else t["no_data"]


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
    t = LABELS[lang]
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
            label = t["period_custom"].format(start=first.isoformat(), end=last.isoformat())
            return Period("custom", start, end, label, date_from=first.isoformat(), date_to=last.isoformat())
        except ValueError:
            error = t["bad_dates"]
    key = params.get("period") if params.get("period") in PERIODS and not error else "24h"
    return Period(key, now - PERIODS[key], now, t[f"period_{key}"], error=error)


def _profile_heading(column: stats.ProfileStats, t: Mapping[str, str], *, default_share: float) -> dict[str, str]:
    if column.profile_id is None:
        return {"name": t["no_profile"], "model": "", "badge": ""}
    if column.is_default:
        badge = t["default"].format(share=f"{default_share:g}")
    elif column.canary_share > 0:
        badge = t["canary"].format(share=f"{column.canary_share:g}")
    else:
        badge = t["rolled_back"]
    return {"name": column.name, "model": column.model, "badge": badge}


def compare_table(*, columns: list[stats.ProfileStats], lang: str) -> dict[str, Any]:
    """The comparison as a table: one column per profile, one row per figure, cells already written out.

    Each cell is (main text, detail text); "no data" where a figure has nothing to measure.
    """
    t = LABELS[lang]
    nd = t["no_data"]
    # The default answers whatever new conversations the live canaries (all of them have a column) leave.
    default_share = max(0.0, 100.0 - sum(c.canary_share for c in columns if not c.is_default))

    def pair(low: float | None, high: float | None) -> str:
        return f"{ms(low)} / {ms(high)}" if low is not None and high is not None else nd

    rows: list[dict[str, Any]] = []

    def row(key: str, cells: list[tuple[str, str]]) -> None:
        rows.append({"label": t[key], "key": key, "hint": t.get(f"{key}_hint", ""), "cells": cells})

    row("conversations", [(integer(c.conversations), "") for c in columns])
    row("handoff_rate", [
        (_or_none(c.handoff_rate, percent, t), t["of"].format(part=c.handed_off, whole=c.conversations)
         if c.conversations else "")
        for c in columns
    ])
    samples = [t["from_replies"].format(n=c.latency_samples) if c.latency_samples else "" for c in columns]
    row("ttft", [(pair(c.ttft_p50, c.ttft_p95), s) for c, s in zip(columns, samples, strict=True)])
    row("total", [(pair(c.total_p50, c.total_p95), s) for c, s in zip(columns, samples, strict=True)])
    row("tokens_per_second", [(_or_none(c.tokens_per_second, one_decimal, t), "") for c in columns])
    row("bot_replies", [
        (integer(c.bot_replies), t["by_model"].format(n=c.llm_replies) if c.bot_replies else "") for c in columns
    ])
    row("feedback", [
        (f"↑ {c.thumbs_up} / ↓ {c.thumbs_down}" if c.thumbs_up + c.thumbs_down else nd,
         t["up_share"].format(share=percent(c.thumbs_up_share)) if c.thumbs_up_share is not None else "")
        for c in columns
    ])
    row("csat", [
        (_or_none(c.csat_mean, one_decimal, t), t["ratings"].format(n=c.csat_count) if c.csat_count else "")
        for c in columns
    ])
    row("errors", [
        (t["of"].format(part=c.failed_replies, whole=c.llm_replies) if c.llm_replies else nd,
         ", ".join(f"{kind}: {n}" for kind, n in sorted(c.errors_by_kind.items())))
        for c in columns
    ])
    return {
        "headings": [_profile_heading(c, t, default_share=default_share) for c in columns],
        "rows": rows,
        "has_data": any(c.has_data for c in columns),
    }


# --- the dashboard ------------------------------------------------------------------------------------


def dashboard_buckets(*, range_key: str, now: datetime, tz: tzinfo) -> tuple[str, stats.Buckets]:
    """`range=hour|day|week` (else day) as aligned time buckets ending with the one now filling."""
    key = range_key if range_key in RANGES else "day"
    size, count = RANGES[key]
    return key, stats.buckets_ending_now(now=now, size=size, count=count, tz=tz)


def _bucket_labels(buckets: stats.Buckets, *, tz: tzinfo) -> tuple[list[str], list[str]]:
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
    *, series: stats.DashboardSeries, range_key: str, lang: str, tz: tzinfo
) -> list[charts.Chart]:
    t = LABELS[lang]
    labels, row_labels = _bucket_labels(series.buckets, tz=tz)
    x_label = t["time_axis"].format(buckets=t[f"bucket_{range_key}"], tz=_tz_name(tz, series.buckets.end))
    common = {"labels": labels, "row_labels": row_labels, "x_label": x_label, "no_data": t["no_data"]}
    return [
        charts.chart_build(
            chart_id="chart-volume", kind="bar", title=t["chart_volume"], y_label=t["count"], fmt=integer, integer=True,
            series=[(t["conversations"], series.conversations), (t["customer_messages"], series.customer_messages)],
            **common,
        ),
        charts.chart_build(
            chart_id="chart-ttft", kind="line", title=t["chart_ttft"], y_label=t["ms"], fmt=ms, tick_fmt=integer,
            series=[(t["p50"], series.ttft_p50), (t["p95"], series.ttft_p95)], **common,
        ),
        charts.chart_build(
            chart_id="chart-total", kind="line", title=t["chart_total"], y_label=t["ms"], fmt=ms, tick_fmt=integer,
            series=[(t["p50"], series.total_p50), (t["p95"], series.total_p95)], **common,
        ),
        charts.chart_build(
            chart_id="chart-resolution", kind="bar", title=t["chart_resolution"], y_label=t["count"],
            fmt=integer, integer=True,
            series=[
                (t["resolved_by_bot"], series.resolved_by_bot),
                (t["resolved_with_human"], series.resolved_with_human),
                (t["bot_alone"], series.bot_alone),
            ],
            **common,
        ),
        charts.chart_build(
            chart_id="chart-handoff", kind="line", title=t["chart_handoff"], y_label=t["percent"], fmt=percent,
            y_max=1.0, series=[(t["handoff_rate"], series.handoff_rate)], **common,
        ),
        charts.chart_build(
            chart_id="chart-csat", kind="line", title=t["chart_csat"], y_label=t["score"], fmt=one_decimal, y_max=5.0,
            divisions=5,
            series=[(t["csat_mean"], series.csat_mean)],
            table_extra=[(t["csat_count"], [str(n) for n in series.csat_count])], **common,
        ),
        charts.chart_build(
            chart_id="chart-sources", kind="line", title=t["chart_sources"], y_label=t["percent"], fmt=percent,
            y_max=1.0, series=[(t["cache_rate"], series.cache_rate), (t["faq_rate"], series.faq_rate)], **common,
        ),
    ]


def dashboard_summary(*, series: stats.DashboardSeries, lang: str) -> list[tuple[str, str]]:
    """The range's headline figures, as (label, value) pairs."""
    t, totals = LABELS[lang], series.totals
    return [
        (t["conversations"], integer(totals["conversations"])),
        (t["customer_messages"], integer(totals["customer_messages"])),
        (t["summary_ttft"], _or_none(totals["ttft_p50"], ms, t)),
        (t["summary_total"], _or_none(totals["total_p50"], ms, t)),
        (t["handoff_rate"], _or_none(totals["handoff_rate"], percent, t)),
        (t["resolved_by_bot"], integer(totals["resolved_by_bot"])),
        (t["resolved_with_human"], integer(totals["resolved_with_human"])),
        (t["csat"], _or_none(totals["csat_mean"], one_decimal, t)
         + (f" ({t['ratings'].format(n=totals['csat_count'])})" if totals["csat_count"] else "")),
        (t["summary_cache"], _or_none(totals["cache_rate"], percent, t)),
        (t["summary_faq"], _or_none(totals["faq_rate"], percent, t)),
    ]


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
    notice = "" if any(s.serves(chat_model) for s in states) else LABELS[lang]["nodes_none"].format(model=chat_model)
    return nodes_rows(states=states, chat_model=chat_model, lang=lang, now=now), notice


def nodes_rows(*, states: list[Any], chat_model: str, lang: str, now: float) -> list[dict[str, str]]:
    t = LABELS[lang]
    rows = []
    for state in states:
        view = state.as_dict()
        health = state.health
        has_model = health is not None and health.up and not state.lacks(chat_model)
        rows.append({
            "host": state.host,
            "state": view["state"],
            "state_label": t[f"state_{view['state']}"],
            "version": health.version if health and health.version else "–",
            "latency": f"{health.latency_ms:.0f} ms" if health and health.latency_ms is not None else "–",
            "in_flight": str(state.in_flight),
            "model": f"{chat_model}: {t['model_pulled'] if has_model else t['model_missing']}",
            "model_ok": "1" if has_model else "",
            "loaded": ", ".join(health.loaded) if health and health.loaded else "–",
            "checked": t["seconds_ago"].format(n=round(now - health.checked_at)) if health else "–",
            "error": health.error if health and health.error else "",
        })
    return rows
