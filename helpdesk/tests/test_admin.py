"""Model profiles are curated in admin: a canary's share changes or rolls back without a restart."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from conversations.services import identity
from helpdesk.models import ModelProfile
from helpdesk.tests.factories import canary_profile, default_profile

pytestmark = pytest.mark.django_db




def form_data(profile: ModelProfile, **changes: object) -> dict[str, object]:
    data = {k: v for k, v in model_to_dict(profile).items() if v is not None and k != "id"}
    data.update(changes)
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def test_the_profile_list_shows_default_canary_and_their_conversations(staff_client) -> None:
    default_profile()
    canary = canary_profile("r1-14b", share=10)
    identity.conversation_create()
    page = staff_client.get(reverse("admin:helpdesk_modelprofile_changelist")).content.decode()
    assert "r1-14b" in page and "deepseek-r1:14b" in page
    assert staff_client.get(reverse("admin:helpdesk_modelprofile_change", args=[canary.pk])).status_code == 200


def test_changing_the_share_in_admin_applies_to_the_next_conversation(staff_client) -> None:
    default = default_profile()
    canary = canary_profile(share=0.01)
    url = reverse("admin:helpdesk_modelprofile_change", args=[canary.pk])
    response = staff_client.post(url, form_data(canary, canary_share=100))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert identity.conversation_create().profile_id == canary.pk
    staff_client.post(reverse("admin:helpdesk_modelprofile_changelist"),
                      {"action": "roll_back", "_selected_action": [canary.pk]})
    canary.refresh_from_db()
    assert canary.canary_share == 0 and identity.conversation_create().profile_id == default.pk


def test_admin_refuses_canary_shares_over_a_hundred(staff_client) -> None:
    canary_profile("a", share=70)
    b = canary_profile("b", share=10)
    response = staff_client.post(reverse("admin:helpdesk_modelprofile_change", args=[b.pk]),
                                 form_data(b, canary_share=50))
    assert response.status_code == 200 and "at most 100 %" in response.content.decode()
    b.refresh_from_db()
    assert b.canary_share == 10


def test_make_default_moves_the_default(staff_client) -> None:
    old = default_profile()
    new = canary_profile(share=20)
    staff_client.post(reverse("admin:helpdesk_modelprofile_changelist"),
                      {"action": "make_default", "_selected_action": [new.pk]})
    assert ModelProfile.objects.get(is_default=True) == new
    old.refresh_from_db()
    assert not old.is_default
    response = staff_client.post(reverse("admin:helpdesk_modelprofile_change", args=[new.pk]),
                                 form_data(new, is_default=False))
    assert response.status_code == 200 and "one profile must be the default" in response.content.decode()


def test_the_way_actions_are_chosen_is_a_profile_setting_in_admin_with_its_help(staff_client) -> None:
    profile = default_profile()
    assert profile.action_choice == ModelProfile.ActionChoice.FORMAT  # DeepSeek-R1 refuses tools: the default
    url = reverse("admin:helpdesk_modelprofile_change", args=[profile.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="action_choice"' in page and "structured output (format)" in page
    assert "needs a tool-capable model" in page and "falls back to structured output" in page
    response = staff_client.post(url, form_data(profile, action_choice="tools"))
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.action_choice == ModelProfile.ActionChoice.TOOLS
    listed = staff_client.get(reverse("admin:helpdesk_modelprofile_changelist"), {"action_choice__exact": "format"})
    assert profile.name not in listed.context["cl"].result_list.values_list("name", flat=True)
    response = staff_client.post(url, form_data(profile, action_choice="functions"))
    assert response.status_code == 200
    profile.refresh_from_db()
    assert profile.action_choice == ModelProfile.ActionChoice.TOOLS
