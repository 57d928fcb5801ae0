"""The evaluation gate: a canary that did worse on the default set than the default profile is not promoted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from helpdesk.llm import profiles
from helpdesk.tests.factories import canary_profile, default_profile

from .evaluation_factories import eval_run_factory, eval_set_factory

pytestmark = pytest.mark.django_db


def _set_with_runs(*, default_rate: float, canary_rate: float | None):
    default, canary = default_profile(), canary_profile(share=5)
    eval_set = eval_set_factory("shop", is_default=True)
    eval_run_factory(eval_set, default, pass_rate=default_rate)
    if canary_rate is not None:
        eval_run_factory(eval_set, canary, pass_rate=canary_rate)
    return default, canary


def test_making_a_worse_canary_the_default_is_refused_with_both_runs_named() -> None:
    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.7)
    with pytest.raises(ValidationError) as refused:
        profiles.profile_save(profile=canary, is_default=True)
    reason = " ".join(refused.value.messages)
    assert "did worse" in reason and "70.0 %" in reason and "90.0 %" in reason and "shop" in reason
    canary.refresh_from_db()
    assert not canary.is_default


def test_raising_a_worse_canary_above_the_free_share_is_refused(settings) -> None:
    settings.EVAL_GATE_FREE_SHARE = 10.0
    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.7)
    profiles.profile_save(profile=canary, canary_share=10.0)  # up to the free share: no gate
    with pytest.raises(ValidationError, match="did worse"):
        profiles.profile_save(profile=canary, canary_share=30.0)


def test_lowering_a_canary_share_is_never_gated() -> None:
    default, canary = default_profile(), canary_profile(share=50)
    eval_set_factory("shop", is_default=True)
    assert profiles.profile_save(profile=canary, canary_share=20.0).canary_share == 20.0
    assert default.is_default


def test_a_canary_with_no_run_of_the_default_set_is_refused() -> None:
    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=None)
    with pytest.raises(ValidationError, match="no finished run"):
        profiles.profile_save(profile=canary, is_default=True)


def test_a_canary_as_good_within_the_tolerance_is_promoted(settings) -> None:
    settings.EVAL_GATE_TOLERANCE = 0.05
    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.85)
    assert profiles.profile_save(profile=canary, is_default=True).is_default


def test_only_the_latest_done_run_counts() -> None:
    default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.95)
    eval_set = default.eval_runs.get().eval_set
    eval_run_factory(eval_set, canary, pass_rate=0.5, finished_at=timezone.now() + timedelta(minutes=1))
    eval_run_factory(eval_set, canary, status="running")
    with pytest.raises(ValidationError, match=r"50\.0 %"):
        profiles.profile_save(profile=canary, is_default=True)


def test_without_a_default_set_there_is_no_gate() -> None:
    default_profile()
    canary = canary_profile(share=5)
    eval_set_factory("other", is_default=False)
    assert profiles.profile_save(profile=canary, is_default=True).is_default


def test_the_first_profile_stored_becomes_the_default_with_no_run() -> None:
    eval_set_factory("shop", is_default=True)
    assert default_profile().is_default  # there is no default yet to compare it with


def test_the_gate_turned_off_by_the_setting_lets_a_worse_canary_through(settings) -> None:
    settings.EVAL_GATE_ENABLED = False
    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.5)
    assert profiles.profile_save(profile=canary, canary_share=60.0).canary_share == 60.0


def test_the_admin_shows_why_it_refused(admin_client) -> None:
    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.6)
    response = admin_client.post("/admin/helpdesk/modelprofile/", {
        "action": "make_default", "_selected_action": [canary.pk]}, follow=True)
    assert "did worse" in response.content.decode()
    canary.refresh_from_db()
    assert not canary.is_default


def test_the_profile_form_shows_why_it_refused() -> None:
    from django.forms.models import model_to_dict

    from helpdesk.admin import ModelProfileForm

    _default, canary = _set_with_runs(default_rate=0.9, canary_rate=0.6)
    data = {key: value for key, value in model_to_dict(canary).items() if value is not None}
    form = ModelProfileForm(data={**data, "is_default": True}, instance=canary)
    assert not form.is_valid()
    assert "did worse" in " ".join(form.errors.get("is_default", []))
