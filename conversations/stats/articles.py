"""Article health: how each knowledge-base article does in the answers that cite it.

An answer cites an article when one of its `sources` with that `article_id` is marked `cited` (the reply used
it). Per article over a period: the answers citing it, their thumbs up and down, and the handoffs after them
(the conversation went to a person and this answer was the last bot reply before that handoff: each handoff
counts once, on the answer just before it, and a conversation handed off twice counts both). An answer is bad
when it got a thumbs down or a handoff followed.

The rules (settings): an article causes bad answers when at least ARTICLE_BAD_MIN_CITED answers cited it and
at least ARTICLE_BAD_RATE of them were bad; a published article is unused when no answer cited it in the last
ARTICLE_UNCITED_DAYS days and it was published before them. At most the latest ARTICLE_HEALTH_MAX_REPLIES
answers of a period are read; evaluation conversations never count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from knowledge.selectors import ArticleRow, articles_rows

from ..models import Feedback, Handoff, Message
from .handoff_replies import last_replies_before


@dataclass(frozen=True)
class ArticleHealth:
    article_id: int
    title: str
    language: str
    status: str
    updated_at: datetime
    published_at: datetime | None
    cited: int
    thumbs_up: int
    thumbs_down: int
    handoffs: int
    bad: int  # answers with a thumbs down or a handoff after them
    last_cited: datetime | None

    @property
    def bad_rate(self) -> float | None:
        return self.bad / self.cited if self.cited else None


@dataclass(frozen=True)
class HealthReport:
    articles: list[ArticleHealth]  # every article, by title
    bad: list[ArticleHealth]  # causing bad answers, the worst first
    unused: list[ArticleHealth]  # published, uncited for ARTICLE_UNCITED_DAYS
    replies: int  # answers read
    capped: bool


def cited_article_ids(sources: list | None) -> set[int]:
    """The articles a reply used: its sources marked `cited` that name an article."""
    return {
        source["article_id"] for source in sources or []
        if isinstance(source, dict) and source.get("cited") and isinstance(source.get("article_id"), int)
    }


@dataclass
class _Use:
    cited: int = 0
    up: int = 0
    down: int = 0
    handoffs: int = 0
    bad: int = 0
    last: datetime | None = None


def _citing_replies(*, start: datetime, end: datetime, limit: int) -> list[tuple[int, int, datetime, set[int]]]:
    """(reply id, conversation id, time, cited articles) of the period's answers that cite an article."""
    rows = (Message.objects.filter(role=Message.Role.BOT, status=Message.Status.COMPLETE, created_at__gte=start,
                                   created_at__lt=end, conversation__evaluation=False)
            .exclude(sources=[]).order_by("-created_at", "-pk")
            .values_list("pk", "conversation_id", "created_at", "sources")[:limit])
    return [(pk, conversation_id, at, cited) for pk, conversation_id, at, sources in rows
            if (cited := cited_article_ids(sources))]


def _handoff_replies(replies: list[tuple[int, int, datetime, set[int]]]) -> set[int]:
    """Of these replies, those a handoff followed: for each handoff (a conversation handed off twice has two),
    its conversation's last bot reply before it."""
    conversation_ids = {conversation_id for _pk, conversation_id, _at, _cited in replies}
    moments = Handoff.objects.filter(conversation_id__in=conversation_ids).values_list("conversation_id", "at")
    return set(last_replies_before(moments, Message.objects.filter(role=Message.Role.BOT)).values())


def _uses(*, start: datetime, end: datetime, limit: int) -> tuple[dict[int, _Use], int, bool]:
    replies = _citing_replies(start=start, end=end, limit=limit + 1)
    capped = len(replies) > limit
    replies = replies[:limit]
    ratings = dict(Feedback.objects.filter(message_id__in=[pk for pk, *_rest in replies])
                   .values_list("message_id", "rating"))
    handed = _handoff_replies(replies)
    uses: dict[int, _Use] = defaultdict(_Use)
    for pk, _conversation_id, at, cited in replies:
        rating = ratings.get(pk)
        for article_id in cited:
            use = uses[article_id]
            use.cited += 1
            use.up += rating == 1
            use.down += rating == -1
            use.handoffs += pk in handed
            use.bad += rating == -1 or pk in handed
            use.last = max(use.last, at) if use.last else at
    return uses, len(replies), capped


def _health(row: ArticleRow, use: _Use) -> ArticleHealth:
    return ArticleHealth(
        article_id=row.article_id, title=row.title, language=row.language, status=row.status,
        updated_at=row.updated_at, published_at=row.published_at, cited=use.cited, thumbs_up=use.up,
        thumbs_down=use.down, handoffs=use.handoffs, bad=use.bad, last_cited=use.last,
    )


def causes_bad_answers(article: ArticleHealth) -> bool:
    """The rule: enough answers cited it, and too many of them were bad."""
    rate = article.bad_rate
    return article.cited >= settings.ARTICLE_BAD_MIN_CITED and rate is not None and rate >= settings.ARTICLE_BAD_RATE


def articles_health(*, start: datetime, end: datetime) -> HealthReport:
    """Every article's figures over the period, the bad ones, and the published ones no answer used lately."""
    limit = settings.ARTICLE_HEALTH_MAX_REPLIES
    uses, replies, capped = _uses(start=start, end=end, limit=limit)
    rows = articles_rows()
    articles = [_health(row, uses.get(row.article_id, _Use())) for row in rows]
    bad = sorted((article for article in articles if causes_bad_answers(article)),
                 key=lambda a: (-(a.bad_rate or 0.0), -a.cited, a.title))
    unused_since = end - timedelta(days=settings.ARTICLE_UNCITED_DAYS)
    recent = uses if start == unused_since else _uses(start=unused_since, end=end, limit=limit)[0]
    unused = [
        _health(row, uses.get(row.article_id, _Use())) for row in rows
        if row.status == "published" and row.published_at is not None and row.published_at < unused_since
        and not recent.get(row.article_id, _Use()).cited
    ]
    return HealthReport(articles=articles, bad=bad, unused=unused, replies=replies, capped=capped)
