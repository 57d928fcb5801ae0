"""The console's knowledge pages: knowledge gaps and article health, written out for the page's language.

Between the views and `conversations.stats.gaps` / `.articles`: the period a request asks for, the reasons'
labels, and the "write an article" link, which opens the admin's add form prefilled through its GET
parameters (Django admin's `get_changeform_initial_data`) with the topic's typical question as the title and
its example questions in the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from conversations.stats.articles import ArticleHealth, HealthReport
from conversations.stats.gaps import DECLINED, LOW_CONFIDENCE, NO_KNOWLEDGE, THUMBS_DOWN, Gaps, Topic, topic_draft

from . import reports

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
PERIOD_LABELS = {"7d": gettext_noop("Last 7 days"), "30d": gettext_noop("Last 30 days"),
                 "90d": gettext_noop("Last 90 days")}
REASON_LABELS = {
    NO_KNOWLEDGE: gettext_noop("handed off: no knowledge"),
    LOW_CONFIDENCE: gettext_noop("handed off: low confidence"),
    DECLINED: gettext_noop("declined"),
    THUMBS_DOWN: gettext_noop("thumbs down"),
}
MODE_LABELS = {"embeddings": gettext_noop("grouped by meaning (embeddings)"),
               "keywords": gettext_noop("grouped by keywords (the embedding model did not answer)")}


@dataclass(frozen=True)
class KnowledgePeriod:
    key: str
    start: datetime
    end: datetime
    label: str


def knowledge_period(*, params: Mapping[str, str], now: datetime, lang: str) -> KnowledgePeriod:
    """`period=7d|30d|90d` (else 7d), ending now."""
    key = params.get("period", "") if params.get("period") in PERIODS else "7d"
    with translation.override(lang):
        return KnowledgePeriod(key, now - timedelta(days=PERIODS[key]), now, _(PERIOD_LABELS[key]))


def period_links(*, current: str, lang: str) -> list[dict[str, Any]]:
    with translation.override(lang):
        return [{"label": _(label), "query": reports.query_with({}, period=key, lang=lang), "current": key == current}
                for key, label in PERIOD_LABELS.items()]


def article_change_url(article_id: int) -> str:
    return reverse("admin:knowledge_article_change", args=[article_id])


def draft_url(topic: Topic) -> str:
    """The admin's add form for an article, prefilled with the topic's draft (conversations.stats.gaps)."""
    return f"{reverse('admin:knowledge_article_add')}?{urlencode(topic_draft(topic))}"


def _reason(reason: str, count: int) -> str:
    return "%s: %d" % (_(REASON_LABELS[reason]), count)  # noqa: UP031  (the label translated outside the format)


def gaps_rows(*, gaps: Gaps, lang: str, can_write: bool) -> list[dict[str, Any]]:
    """Each topic as the page shows it."""
    with translation.override(lang):
        return [{
            "number": number,
            "label": " · ".join(topic.label) or topic.title,
            "title": topic.title,
            "count": topic.count,
            "reasons": [_reason(reason, n) for reason, n in topic.reasons.items()],
            "examples": topic.examples,
            "articles": [{"title": a.title or f"#{a.article_id}", "url": article_change_url(a.article_id),
                          "count": a.count} for a in topic.articles],
            "draft_url": draft_url(topic) if can_write else "",
        } for number, topic in enumerate(gaps.topics, 1)]


def gaps_summary(*, gaps: Gaps, lang: str) -> str:
    with translation.override(lang):
        text = _("%(questions)s questions in %(topics)s topics, %(mode)s.") % {
            "questions": gaps.questions, "topics": len(gaps.topics), "mode": _(MODE_LABELS[gaps.mode])}
        if gaps.capped:
            text += " " + _("Only the latest %(n)s were grouped (GAPS_MAX_QUESTIONS).") % {
                "n": settings.GAPS_MAX_QUESTIONS}
        return text


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d}" if moment else "–"


def health_row(article: ArticleHealth, *, tz: tzinfo) -> dict[str, Any]:
    rate = article.bad_rate
    return {
        "title": article.title, "url": article_change_url(article.article_id), "language": article.language,
        "published": article.status == "published", "cited": article.cited, "up": article.thumbs_up,
        "down": article.thumbs_down, "handoffs": article.handoffs,
        "bad_rate": reports.percent(rate) if rate is not None else "–",
        "last_cited": _when(article.last_cited, tz), "changed": _when(article.updated_at, tz),
    }


def health_tables(*, health: HealthReport, tz: tzinfo) -> dict[str, list[dict[str, Any]]]:
    return {name: [health_row(article, tz=tz) for article in getattr(health, name)]
            for name in ("bad", "unused", "articles")}


def health_rules(*, lang: str) -> dict[str, str]:
    """The two rules in words, with the settings' values."""
    with translation.override(lang):
        return {
            "bad": _("At least %(cited)s answers of the period cited the article and %(rate)s or more of them got a "
                     "thumbs down or were followed by a handoff.") % {
                "cited": settings.ARTICLE_BAD_MIN_CITED, "rate": reports.percent(settings.ARTICLE_BAD_RATE)},
            "unused": _("Published more than %(days)s days ago, and no answer cited it in the last %(days)s days.")
            % {"days": settings.ARTICLE_UNCITED_DAYS},
        }
