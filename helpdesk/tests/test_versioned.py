"""Rows kept per process while their version in the shared cache stays (helpdesk.runtime.versioned): read once, and
read again by every process as soon as one of them saves or deletes a row."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from helpdesk.llm import profiles
from helpdesk.models import ModelProfile
from helpdesk.runtime.versioned import Versioned
from helpdesk.tests.factories import canary_profile, default_profile

pytestmark = pytest.mark.django_db


def another_process() -> Versioned[dict[int, ModelProfile]]:
    """The profiles as another process keeps them: its own copy, the same version in the shared cache."""
    return Versioned(profiles.profiles_kept.name, profiles.profiles_kept.load)


def test_kept_profiles_are_read_once_while_nothing_changes(django_assert_num_queries: Any) -> None:
    default = default_profile(model="deepseek-r1:7b")
    profiles.profile_in_force(profile_id=default.pk)
    with django_assert_num_queries(0):
        assert profiles.profile_in_force(profile_id=default.pk).model == "deepseek-r1:7b"
        assert profiles.profile_default().pk == default.pk


def test_an_admins_edit_of_the_default_profile_is_seen_by_every_process_at_once() -> None:
    default = default_profile(model="deepseek-r1:7b")
    worker = another_process()
    assert worker.get()[default.pk].model == "deepseek-r1:7b"
    profiles.profile_save(profile=ModelProfile.objects.get(pk=default.pk), model="qwen2.5:14b")
    assert worker.get()[default.pk].model == "qwen2.5:14b"
    assert profiles.profile_in_force(profile_id=default.pk).model == "qwen2.5:14b"


def test_a_rolled_back_canary_and_a_deleted_profile_are_seen_at_once() -> None:
    default = default_profile()
    canary = canary_profile(share=30.0)
    worker = another_process()
    assert profiles.profile_in_force(profile_id=canary.pk).pk == canary.pk and canary.pk in worker.get()
    profiles.profile_save(profile=ModelProfile.objects.get(pk=canary.pk), canary_share=0.0)
    assert profiles.profile_in_force(profile_id=canary.pk).pk == default.pk, "rolled back: the default answers"
    ModelProfile.objects.filter(pk=canary.pk).first().delete()
    assert canary.pk not in worker.get() and profiles.profile_in_force(profile_id=canary.pk).pk == default.pk


def test_a_change_moves_the_version_again_when_it_commits(django_capture_on_commit_callbacks: Any) -> None:
    """A process that read the rows between the save and the commit read the old ones: it reads again."""
    default = default_profile()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        default.save()
        saved = cache.get(profiles.profiles_kept.key)
    assert callbacks, "nothing waits for the commit"
    for callback in callbacks:
        callback()
    assert cache.get(profiles.profiles_kept.key) != saved


def test_a_version_lost_from_the_shared_cache_is_a_new_one() -> None:
    """Redis restarted (or flushed): what a process kept is not trusted, and the rows are read again."""
    default = default_profile(model="deepseek-r1:7b")
    assert profiles.profile_default().model == "deepseek-r1:7b"
    ModelProfile.objects.filter(pk=default.pk).update(model="llama3.1:8b")  # saves nothing: no signal
    cache.delete(profiles.profiles_kept.key)
    assert profiles.profile_default().model == "llama3.1:8b"


def test_a_caller_changing_its_profile_changes_no_one_elses() -> None:
    default = default_profile(model="deepseek-r1:7b")
    mine = profiles.profile_in_force(profile_id=default.pk)
    mine.model = "changed-here"
    assert profiles.profile_in_force(profile_id=default.pk).model == "deepseek-r1:7b"


def test_a_change_no_version_tells_is_seen_after_the_backstop_age(monkeypatch: Any) -> None:
    """A bulk update that saves nothing (or a change made while this process could not reach Redis)."""
    from helpdesk.runtime import versioned

    default = default_profile(model="deepseek-r1:7b")
    assert profiles.profile_default().model == "deepseek-r1:7b"
    ModelProfile.objects.filter(pk=default.pk).update(model="llama3.1:8b")  # saves nothing: no signal
    assert profiles.profile_default().model == "deepseek-r1:7b", "kept while the version stays"
    monkeypatch.setattr(versioned, "MAX_AGE_S", 0.0)
    assert profiles.profile_default().model == "llama3.1:8b"


# --- one unit of work reads the versions once (versions_read_once) ---------------------------------------------


@pytest.mark.production
def test_a_unit_of_work_reads_every_version_once_whatever_it_uses(django_assert_num_queries: Any) -> None:
    from helpdesk.runtime.versioned import versions_read_once
    from tests.support.redis_traffic import redis_traffic

    default = default_profile(model="deepseek-r1:7b")
    profiles.profile_in_force(profile_id=default.pk)  # kept, its version named
    with versions_read_once(), redis_traffic() as traffic, django_assert_num_queries(0):
        for _ in range(3):
            assert profiles.profile_in_force(profile_id=default.pk).model == "deepseek-r1:7b"
    assert dict(traffic.commands) == {"MGET": 1} and traffic.round_trips == 1


def test_a_change_committed_while_a_unit_runs_is_seen_by_the_next_unit() -> None:
    import uuid

    from helpdesk.runtime.versioned import versions_read_once

    default = default_profile(model="deepseek-r1:7b")
    with versions_read_once():
        assert profiles.profile_in_force(profile_id=default.pk).model == "deepseek-r1:7b"
        # Another process's save: the row, then its version moved in the shared cache.
        ModelProfile.objects.filter(pk=default.pk).update(model="qwen2.5:14b")
        cache.set(profiles.profiles_kept.key, uuid.uuid4().hex, None)
        assert profiles.profile_in_force(profile_id=default.pk).model == "deepseek-r1:7b", "the unit goes on"
    with versions_read_once():
        assert profiles.profile_in_force(profile_id=default.pk).model == "qwen2.5:14b"


def test_a_change_a_unit_makes_is_seen_by_its_next_use() -> None:
    from helpdesk.runtime.versioned import versions_read_once

    default = default_profile(model="deepseek-r1:7b")
    with versions_read_once():
        assert profiles.profile_in_force(profile_id=default.pk).model == "deepseek-r1:7b"
        profiles.profile_save(profile=ModelProfile.objects.get(pk=default.pk), model="qwen2.5:14b")
        assert profiles.profile_in_force(profile_id=default.pk).model == "qwen2.5:14b"


def test_a_version_missing_inside_a_unit_is_named_and_kept_for_it() -> None:
    from helpdesk.runtime.versioned import versions_read_once

    default = default_profile()
    with versions_read_once():
        cache.delete(profiles.profiles_kept.key)  # a Redis restart: no version in the shared cache
        assert default.pk in profiles.profiles_kept.get()
        named = cache.get(profiles.profiles_kept.key)
        assert named and default.pk in profiles.profiles_kept.get() and cache.get(profiles.profiles_kept.key) == named
