"""Teams, labels and the rules that set labels and priority, in admin: a team's members, the intents it takes,
how it assigns, its cap per agent and its SLA targets per priority (in business minutes)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from .intents import Intent
from .models import ConversationRule, Label, Priority, Team, TeamMembership
from .selectors.sla import FIRST_RESPONSE, RESOLUTION

_ROUTABLE = [(intent.value, intent.value.replace("_", " ")) for intent in Intent if intent != Intent.SMALL_TALK]


def _sla_field(priority: str, target: str) -> str:
    return f"sla_{priority}_{target}"


class _TeamFormBase(forms.ModelForm):
    """The SLA targets as one number field each (priority × first response / resolution) instead of raw JSON,
    and the intents as check boxes."""

    intents = forms.MultipleChoiceField(choices=_ROUTABLE, required=False, widget=forms.CheckboxSelectMultiple,
                                        help_text="Handoffs whose customer showed one of these intents come here.")

    class Meta:
        model = Team
        fields = ("name", "intents", "is_default", "assignment", "max_per_agent")

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
    _sla_field(priority, target): forms.IntegerField(label=f"{label}: {what} (business minutes)", required=False,
                                                     min_value=1)
    for priority, label in Priority.choices
    for target, what in ((FIRST_RESPONSE, "first response"), (RESOLUTION, "resolution"))
})


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    fields = ("agent", "last_assigned_at")
    readonly_fields = ("last_assigned_at",)
    autocomplete_fields = ("agent",)
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    inlines = [TeamMembershipInline]
    list_display = ("name", "is_default", "assignment", "max_per_agent", "intent_list", "member_count")
    search_fields = ("name",)

    def get_fieldsets(self, request: Any, obj: Any = None) -> Any:
        sla = [_sla_field(p, t) for p in Priority.values for t in (FIRST_RESPONSE, RESOLUTION)]
        return [
            (None, {"fields": ("name", "intents", "is_default")}),
            ("Assignment", {"fields": ("assignment", "max_per_agent"),
                            "description": "New handoffs go to an online member automatically, or wait in the "
                                           "team's queue while every member is offline or at the cap (0: none)."}),
            ("SLA targets", {"fields": sla, "description": "Counted from the handoff, in SUPPORT_HOURS only; "
                                                          "empty: no target."}),
        ]

    @admin.display(description="intents")
    def intent_list(self, obj: Team) -> str:
        return ", ".join(obj.intents or [])

    @admin.display(description="members")
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
