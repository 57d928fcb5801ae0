"""Reads of the agents' side."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from conversations.selectors.messages import agent_name
from helpdesk.web import signin

from .models import AuditEvent, CannedResponse

AGENTS_GROUP = "agents"
CONSOLE_PERMISSION = ("agents", "use_console")  # agents.use_console, on agents.models.Console


def agents_queryset() -> QuerySet:
    """Who may use the console: active users in the `agents` group or holding `agents.use_console` (directly or
    through any group), and superusers. Being staff is not enough: staff may only look after the admin."""
    app_label, codename = CONSOLE_PERMISSION
    by_user = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    by_group = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    return get_user_model().objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name=AGENTS_GROUP) | by_user | by_group
    ).distinct()


def user_is_agent(user: Any) -> bool:
    """Whether `user` may use the console now, read from the database each time (one query), not from the
    user object or its permission cache: a colleague taken out of the group mid-shift is refused at once."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    return agents_queryset().filter(pk=user.pk).exists()


def console_allowed(*, user: Any, session: Any) -> bool:
    """The console socket's check, on connect and before every frame: an agent (re-read from the database)
    whose session gave the second factor when REQUIRE_2FA_FOR_STAFF asks for one."""
    if not user_is_agent(user):
        return False
    return not signin.second_factor_required() or signin.session_verified(session=session, user=user)


def agents_list() -> list[dict[str, Any]]:
    return [{"id": user.pk, "name": agent_name(user)} for user in agents_queryset().order_by("username")]


def canned_responses() -> list[dict[str, str]]:
    return [
        {"shortcut": c.shortcut, "title": c.title, "body": c.body, "language": c.language}
        for c in CannedResponse.objects.all()
    ]


def user_get(*, user_id: int) -> Any:
    """The user, read afresh (the socket's scope holds a lazy one)."""
    return get_user_model().objects.get(pk=user_id)


def agent_find(*, agent_id: int | None) -> Any:
    """The agent with this number, or None when nobody who may use the console has it."""
    return None if agent_id is None else agents_queryset().filter(pk=agent_id).first()


def handbacks_per_agent(
    *, start: datetime, end: datetime, agent_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """How many times each agent handed a conversation back to the bot in [start, end), from the audit log
    (kept through a customer's erasure, which only drops the conversation it points at). `agent_ids`: only
    those agents (a team), None: everyone."""
    events = AuditEvent.objects.filter(action="hand_back", actor__isnull=False, created_at__gte=start,
                                       created_at__lt=end)
    if agent_ids is not None:
        events = events.filter(actor_id__in=set(agent_ids))
    return dict(events.order_by().values_list("actor_id").annotate(n=Count("id")))


def users_named(*, user_ids: Iterable[int]) -> dict[int, str]:
    """user id -> the name agents are shown by, for the ids that still exist."""
    return {user.pk: agent_name(user) for user in get_user_model().objects.filter(pk__in=set(user_ids))}
