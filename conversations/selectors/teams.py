"""The teams and labels, as the console's filters and label picker list them."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from helpdesk.runtime.versioned import Versioned

from ..models import Conversation, Label, Team, TeamMembership

# Whether any label exists, kept per process (conversations.apps moves it when a label is saved or deleted): a
# conversation's inbox line is sent with every message, and where no label was ever made (most deployments),
# reading its labels is a query per message for nothing (conversations/tests/test_reply_queries.py).
labels_exist_kept: Versioned[bool] = Versioned("labels-exist", lambda: Label.objects.exists())


def teams_list(*, agent_id: int | None = None) -> list[dict[str, Any]]:
    """Every team, by name; with `agent_id`, whether that agent is one of its members (`mine`: the console alerts
    an agent to the handoffs of their own teams, and of none)."""
    teams = Team.objects.order_by("name")
    if agent_id is None:
        return [{"id": team.pk, "name": team.name} for team in teams]
    teams = teams.annotate(mine=Exists(TeamMembership.objects.filter(team=OuterRef("pk"), agent_id=agent_id)))
    return [{"id": team.pk, "name": team.name, "mine": team.mine} for team in teams]


def labels_list() -> list[str]:
    """Every label's name, by name."""
    return list(Label.objects.order_by("name").values_list("name", flat=True))


def conversation_labels(conversation: Conversation) -> list[str]:
    """The conversation's labels' names, sorted; no query where no label exists, or where they were prefetched
    (the inbox's pages)."""
    prefetched = getattr(conversation, "_prefetched_objects_cache", {})
    if "labels" not in prefetched and not labels_exist_kept.get():
        return []
    return sorted(label.name for label in conversation.labels.all())


def team_member_ids(*, team_id: int) -> tuple[str, set[int]] | None:
    """A team's name and its members' user ids (the agents' report per team); None when no team has this id."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return None
    return team.name, set(team.memberships.values_list("agent_id", flat=True))
