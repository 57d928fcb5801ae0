"""Teams of agents with their own queues, the labels on conversations, and the rules that set labels and priority.

They live in conversations (not agents) because routing is part of the handoff: conversations.services.handoff
puts a conversation in a team's queue and gives it to a member (conversations.services.assignment) in the same
transaction, and conversations may not import agents. The agents app shows them in the console.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ..protocol.codes import Priority

__all__ = ["ConversationRule", "Label", "Priority", "Team", "TeamMembership"]


class Team(models.Model):
    """A group of agents (售后, billing, complaints) with its own queue of handed-off conversations."""

    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_BUSY = "least_busy", "Least busy"
        MANUAL = "manual", "Manual (the queue only)"

    name = models.CharField(max_length=64, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    # Customer-message intents (conversations.intents.Intent values) whose handoffs this team takes, e.g.
    # ["complaint"] or ["refund", "order_status"].
    intents = models.JSONField(default=list, blank=True)
    # Takes the handoffs no team's intents claim (at most one team should be the default).
    is_default = models.BooleanField(default=False)
    assignment = models.CharField(max_length=16, choices=Assignment.choices, default=Assignment.ROUND_ROBIN)
    # The most conversations an agent has at once before new ones wait in the queue; 0: no limit.
    max_per_agent = models.PositiveSmallIntegerField(default=5)
    # SLA targets in business minutes (SUPPORT_HOURS), per priority: {"normal": {"first_response": 30,
    # "resolution": 480}, ...}; a missing priority or target has none.
    sla = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """An agent in a team; its row is what assignment locks, so two handoffs never both give the last free slot
    of one agent, and it remembers when the member was last given a conversation (round robin's turn)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "agent"], name="team_membership_unique")]

    def __str__(self) -> str:
        return f"{self.agent} in {self.team}"


class Label(models.Model):
    """A tag an agent or a rule puts on conversations (vip, bug, 退款); the inbox filters by it."""

    name = models.CharField(max_length=48, unique=True)
    color = models.CharField(max_length=7, default="#6b7280")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConversationRule(models.Model):
    """When a conversation is handed off and matches (every condition given), it gets the label and/or priority.

    Conditions: the intent of a customer message in it, its channel ("web", "app:<name>"), a VIP customer (an
    external id in `customer_ids`)."""

    name = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    intent = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=64, blank=True)
    # External ids (as the site's signed identity gives them) of the customers this rule is about, e.g. VIPs.
    customer_ids = models.JSONField(default=list, blank=True)
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    priority = models.CharField(max_length=8, choices=Priority.choices, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
