"""An agent's saved inbox views: named filters kept per agent, listed in the console's `hello` frame, saved and
deleted with its `view_save` and `view_delete` frames. Applying one is the console's: it sets its filters and
sends them as an `inbox` frame, so a view never holds anything an inbox frame could not ask for.

Every function takes the agent: nobody reads, replaces or deletes another agent's views.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from conversations.protocol.client import inbox_filters, view_name
from conversations.protocol.codes import ErrorCode, FrameError

from .models import SavedView

# Enough for an agent's working views; past it the console says to delete one, not to scroll a hundred.
MAX_VIEWS_PER_AGENT = 20


def saved_views_list(*, agent_id: int) -> list[dict[str, Any]]:
    """The agent's views, by name: what `hello` and `views` frames carry."""
    return [{"id": view.pk, "name": view.name, "filters": view.filters}
            for view in SavedView.objects.filter(agent_id=agent_id)]


def saved_view_save(*, agent: Any, name: str, filters: Any) -> SavedView:
    """Save `filters` (checked again: the admin and tests call this too) under `name`, replacing the agent's view
    of that name; a new name past MAX_VIEWS_PER_AGENT is refused (too_many_views)."""
    name, filters = view_name(name), inbox_filters(filters)
    with transaction.atomic():
        # The agent's row locked: two saves at once cannot both take the last free place.
        type(agent).objects.select_for_update().filter(pk=agent.pk).first()
        view = SavedView.objects.filter(agent=agent, name=name).first()
        if view is not None:
            view.filters = filters
            view.save(update_fields=["filters"])
            return view
        if SavedView.objects.filter(agent=agent).count() >= MAX_VIEWS_PER_AGENT:
            raise FrameError(ErrorCode.TOO_MANY_VIEWS,
                             f"at most {MAX_VIEWS_PER_AGENT} saved views: delete one first",
                             limit=MAX_VIEWS_PER_AGENT)
        try:
            with transaction.atomic():
                return SavedView.objects.create(agent=agent, name=name, filters=filters)
        except IntegrityError:  # pragma: no cover - the lock above makes this a race with no winner left
            raise FrameError(ErrorCode.INVALID_VIEW, "a view of this name was just saved") from None


def saved_view_delete(*, agent: Any, view_id: int) -> None:
    """Delete one of the agent's views; another agent's, or none, is unknown_view (whose it is is not told)."""
    deleted, _ = SavedView.objects.filter(agent=agent, pk=view_id).delete()
    if not deleted:
        raise FrameError(ErrorCode.UNKNOWN_VIEW, "you have no saved view of this number", view_id=view_id)
