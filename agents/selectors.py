"""Reads of the agents' side."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from conversations.selectors import agent_name

from .models import CannedResponse

AGENTS_GROUP = "agents"


def user_is_agent(user: Any) -> bool:
    """Staff, or members of the `agents` group, may use the console."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff or user.groups.filter(name=AGENTS_GROUP).exists())


def agents_list() -> list[dict[str, Any]]:
    users = get_user_model().objects.filter(is_active=True).filter(
        is_staff=True
    ) | get_user_model().objects.filter(is_active=True, groups__name=AGENTS_GROUP)
    return [{"id": user.pk, "name": agent_name(user)} for user in users.distinct().order_by("username")]


def canned_responses() -> list[dict[str, str]]:
    return [
        {"shortcut": c.shortcut, "title": c.title, "body": c.body, "language": c.language}
        for c in CannedResponse.objects.all()
    ]
