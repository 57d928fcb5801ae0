"""The moderation lists as a Matcher: built from the admin's terms once per version of the lists and kept in
the process, so a message costs one automaton pass, not a rebuild.

The lists' version (one aggregate query) is read at most once per MODERATION_LISTS_RECHECK_S in each process,
not for every message: a change made in this process (the admin's form and actions, the import, any save or
delete of a term) is seen by the very next message, one made in another process within that many seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.db import transaction
from django.db.models import Count, Max

from knowledge.selectors import Grounding

from ..models import ModerationAction, ModerationCategory, ModerationTerm
from .matching import Match, Matcher, Term

# The stronger action wins when a message hits several terms.
_STRENGTH = {ModerationAction.FLAG: 0, ModerationAction.REFUSE: 1, ModerationAction.HANDOFF: 2}

_lock = threading.Lock()
_built: tuple[object, Matcher] | None = None
# The lists' version as last read from the database, and when (time.monotonic()); None: read it again.
_seen: tuple[object, float] | None = None


def category_action(category: str) -> str:
    """What a blocked term's hit in `category` does (MODERATION_ACTIONS, else MODERATION_DEFAULT_ACTION)."""
    return settings.MODERATION_ACTIONS.get(category, settings.MODERATION_DEFAULT_ACTION)


def actions_check(**kwargs: object) -> list[checks.CheckMessage]:
    """A system check: MODERATION_ACTIONS names only known categories (a misspelt one would silently fall back
    to MODERATION_DEFAULT_ACTION)."""
    unknown = sorted(set(settings.MODERATION_ACTIONS) - set(ModerationCategory.values))
    if not unknown:
        return []
    return [
        checks.Error(
            f"MODERATION_ACTIONS names unknown categories: {', '.join(unknown)}",
            hint=f"Known categories: {', '.join(ModerationCategory.values)}",
            id="conversations.E001",
        )
    ]


def lists_changed(**kwargs: object) -> None:
    """The terms changed in this process: the next message reads the lists' version again, and so does the first
    one after the change commits (a message handled on another thread meanwhile reads the version before it).
    Connected to ModerationTerm's post_save and post_delete, and called after the admin's bulk actions."""
    _forget_version()
    transaction.on_commit(_forget_version)


def _forget_version() -> None:
    global _seen
    _seen = None


def _terms_version() -> object:
    """The terms' version: their number and the latest change (an edit, a new term, enabling or disabling one all
    move it; a deletion changes the count); read from the database once per MODERATION_LISTS_RECHECK_S."""
    global _seen
    seen, now = _seen, time.monotonic()
    if seen is not None and now - seen[1] < settings.MODERATION_LISTS_RECHECK_S:
        return seen[0]
    row = ModerationTerm.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    version = (row["count"], row["latest"])
    _seen = (version, now)
    return version


def _version() -> object:
    """The lists' version: the terms' (above), and the actions set for the categories."""
    actions = tuple(sorted(settings.MODERATION_ACTIONS.items()))
    return _terms_version(), actions, settings.MODERATION_DEFAULT_ACTION


def term_for_matcher(row: ModerationTerm) -> Term:
    sensitive = row.kind == ModerationTerm.Kind.SENSITIVE
    action = ModerationAction.FLAG if sensitive else category_action(row.category)
    return Term(
        id=row.pk,
        text=row.text,
        category=row.category,
        action=action,
        stops=action != ModerationAction.FLAG,
        is_pattern=row.is_pattern,
        languages=tuple(row.language_codes()),
    )


def matcher_current() -> Matcher | None:
    """The matcher for the lists as they are; None when moderation is off or the lists are empty."""
    global _built
    if not settings.MODERATION_ENABLED:
        return None
    version = _version()
    built = _built
    if built is None or built[0] != version:
        with _lock:
            if _built is None or _built[0] != version:
                terms = [term_for_matcher(row) for row in ModerationTerm.objects.filter(enabled=True)]
                _built = (version, Matcher(terms))
            built = _built
    return built[1] if built[1].size else None


@dataclass(frozen=True)
class Verdict:
    """What the lists say of one text: the terms found, and the action they call for ("" when none)."""

    matches: tuple[Match, ...] = ()

    @property
    def action(self) -> str:
        if not self.matches:
            return ""
        return max((match.term.action for match in self.matches), key=lambda action: _STRENGTH[action])

    @property
    def stops(self) -> bool:
        return self.action in (ModerationAction.REFUSE, ModerationAction.HANDOFF)

    @property
    def categories(self) -> list[str]:
        return sorted({match.term.category for match in self.matches})


def text_check(text: str, *, language: str | None = None) -> Verdict:
    """The lists' verdict on a whole text (a customer's message)."""
    matcher = matcher_current()
    if matcher is None:
        return Verdict()
    return Verdict(tuple(matcher.find(text, language=language)))


def cached_answer_blocked(grounding: Grounding) -> bool:
    """Whether the answer cache's answer holds a blocked term: cached before the term was listed, it is not
    served; the reply is generated afresh, through the stream filter. (FAQ answers are the operator's own.)"""
    return grounding.cached is not None and text_check(grounding.cached.content).stops
