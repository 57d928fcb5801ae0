"""Teams, labels and the rules that set labels and priority, in admin: a team's members, the intents it takes,
how it assigns, its cap per agent and its SLA targets per priority (in business minutes)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from .intents import Intent
from .models import ConversationRule, Label, Priority, Team, TeamMembership
from .selectors.sla import FIRST_RESPONSE, RESOLUTION

# The words of the team's page, in the admin's language (the models' own names and choices stay as migrated).
INTENT_LABELS = {
    Intent.PERSON: _("asked for a person"), Intent.COMPLAINT: _("complaint"), Intent.ORDER_STATUS: _("order status"),
    Intent.REFUND: _("refund"), Intent.SHIPPING: _("shipping"), Intent.OUT_OF_SCOPE: _("out of scope"),
    Intent.QUESTION: _("question"),
}
_ROUTABLE = [(intent.value, INTENT_LABELS.get(intent, intent.value.replace("_", " ")))
             for intent in Intent if intent != Intent.SMALL_TALK]
ASSIGNMENT_LABELS = {
    Team.Assignment.ROUND_ROBIN: _("Round robin"), Team.Assignment.LEAST_BUSY: _("Least busy"),
    Team.Assignment.MANUAL: _("Manual (the queue only)"),
}
PRIORITY_LABELS = {Priority.LOW: _("Low"), Priority.NORMAL: _("Normal"), Priority.HIGH: _("High"),
                   Priority.URGENT: _("Urgent")}
SLA_TARGET_LABELS = {FIRST_RESPONSE: _("%(priority)s: first response (business minutes)"),
                     RESOLUTION: _("%(priority)s: resolution (business minutes)")}


def _sla_field(priority: str, target: str) -> str:
    return f"sla_{priority}_{target}"


def _sla_label(priority: str, target: str) -> str:
    return str(SLA_TARGET_LABELS[target]) % {"priority": PRIORITY_LABELS[priority]}


_sla_label_lazy = lazy(_sla_label, str)  # translated when the form is shown, not when the module is imported


class _TeamFormBase(forms.ModelForm):
    """The SLA targets as one number field each (priority × first response / resolution) instead of raw JSON,
    and the intents as check boxes."""

    intents = forms.MultipleChoiceField(choices=_ROUTABLE, required=False, widget=forms.CheckboxSelectMultiple,
                                        label=_("intents"),
                                        help_text=_("Handoffs whose customer showed one of these intents come here."))
    assignment = forms.ChoiceField(choices=list(ASSIGNMENT_LABELS.items()), initial=Team.Assignment.ROUND_ROBIN,
                                   label=_("assignment"))

    class Meta:
        model = Team
        fields = ("name", "intents", "is_default", "assignment", "max_per_agent")
        labels = {"name": _("name"), "is_default": _("default team"),
                  "max_per_agent": _("most conversations per agent")}
        help_texts = {"is_default": _("Takes the handoffs no team's intents claim (one team at most)."),
                      "max_per_agent": _("0: no limit.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sla = (self.instance.sla or {}) if self.instance else {}
        for priority in Priority.values:
            for target in (FIRST_RESPONSE, RESOLUTION):
                self.initial.setdefault(_sla_field(priority, target), (sla.get(priority) or {}).get(target))

    def save(self, commit: bool = True) -> Team:
        team = super().save(commit=False)
        team.sla = {
            priority: targets
            for priority in Priority.values
            if (targets := {target: self.cleaned_data[_sla_field(priority, target)]
                            for target in (FIRST_RESPONSE, RESOLUTION)
                            if self.cleaned_data.get(_sla_field(priority, target))})
        }
        if commit:
            team.save()
            self.save_m2m()
        return team


# One declared field per priority and target (admin builds its form from declared fields).
TeamForm = type("TeamForm", (_TeamFormBase,), {
    _sla_field(priority, target): forms.IntegerField(label=_sla_label_lazy(priority, target), required=False,
                                                     min_value=1)
    for priority in Priority.values
    for target in (FIRST_RESPONSE, RESOLUTION)
})


class TeamMembershipForm(forms.ModelForm):
    class Meta:
        model = TeamMembership
        fields = ("agent",)
        labels = {"agent": _("agent")}


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    form = TeamMembershipForm
    fields = ("agent", "last_given")
    readonly_fields = ("last_given",)
    autocomplete_fields = ("agent",)
    extra = 1
    verbose_name = _("member")
    verbose_name_plural = _("members")

    @admin.display(description=_("last given a conversation"))
    def last_given(self, obj: TeamMembership) -> Any:
        return obj.last_assigned_at or "–"


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    inlines = [TeamMembershipInline]
    list_display = ("team_name", "default_team", "assignment_way", "cap", "intent_list", "member_count")
    search_fields = ("name",)

    def get_fieldsets(self, request: Any, obj: Any = None) -> Any:
        sla = [_sla_field(p, t) for p in Priority.values for t in (FIRST_RESPONSE, RESOLUTION)]
        return [
            (None, {"fields": ("name", "intents", "is_default")}),
            (_("Assignment"), {"fields": ("assignment", "max_per_agent"),
                               "description": _("New handoffs go to an online member automatically, or wait in the "
                                                "team's queue while every member is offline or at the cap.")}),
            (_("SLA targets"), {"fields": sla, "description": _("Counted from the handoff, in SUPPORT_HOURS only; "
                                                                "empty: no target.")}),
        ]

    @admin.display(description=_("name"), ordering="name")
    def team_name(self, obj: Team) -> str:
        return obj.name

    @admin.display(description=_("default team"), boolean=True, ordering="is_default")
    def default_team(self, obj: Team) -> bool:
        return obj.is_default

    @admin.display(description=_("assignment"), ordering="assignment")
    def assignment_way(self, obj: Team) -> str:
        return str(ASSIGNMENT_LABELS.get(obj.assignment, obj.assignment))

    @admin.display(description=_("most conversations per agent"), ordering="max_per_agent")
    def cap(self, obj: Team) -> str:
        return str(obj.max_per_agent or _("no limit"))

    @admin.display(description=_("intents"))
    def intent_list(self, obj: Team) -> str:
        return ", ".join(str(INTENT_LABELS.get(intent, intent)) for intent in obj.intents or [])

    @admin.display(description=_("members"))
    def member_count(self, obj: Team) -> int:
        return obj.memberships.count()


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name", "color")
    search_fields = ("name",)


@admin.register(ConversationRule)
class ConversationRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "intent", "channel", "label", "priority")
    list_filter = ("active", "priority")
    fields = ("name", "active", "intent", "channel", "customer_ids", "label", "priority")
