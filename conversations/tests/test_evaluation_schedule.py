"""The nightly evaluation run and the run after a publish: queued once, when due, of the default set."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conversations.evaluation.schedule import evaluation_after_publish, evaluation_nightly_queue
from conversations.models import EvalRun
from helpdesk.celery import app
from helpdesk.tests.factories import default_profile
from knowledge.services.articles import articles_publish
from knowledge.tests.factories import article_create

from .evaluation_factories import eval_case_factory, eval_run_factory, eval_set_factory

pytestmark = pytest.mark.django_db


def _at(hour: int, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, 5, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def default_set(settings):
    settings.TIME_ZONE = "UTC"
    eval_set = eval_set_factory("shop", is_default=True)
    eval_case_factory(eval_set, "delivery")
    return eval_set


def test_the_beat_asks_for_the_nightly_run_on_an_interval_the_embedded_beat_can_run() -> None:
    entry = app.conf.beat_schedule["evaluation-nightly"]
    assert entry["task"] == "conversations.evaluation_nightly" and float(entry["schedule"]) <= 3600


def test_before_the_hour_nothing_is_queued(default_set, settings) -> None:
    settings.EVAL_NIGHTLY_HOUR = 3
    assert evaluation_nightly_queue(now=_at(2)) is None
    assert not EvalRun.objects.exists()


def test_tonights_run_already_queued_is_not_queued_again(default_set) -> None:
    eval_run_factory(default_set, default_profile(), trigger=EvalRun.Trigger.NIGHTLY)
    EvalRun.objects.update(created_at=_at(3))
    assert evaluation_nightly_queue(now=_at(4)) is None
    assert EvalRun.objects.count() == 1


def test_no_default_set_or_the_setting_off_queues_nothing(settings) -> None:
    assert evaluation_nightly_queue(now=_at(4)) is None
    eval_set_factory("shop", is_default=True)
    settings.EVAL_NIGHTLY = False
    assert evaluation_nightly_queue(now=_at(4)) is None
    assert not EvalRun.objects.exists()


def test_the_nightly_run_is_queued_once_with_the_default_profile(default_set) -> None:
    profile = default_profile()
    run = evaluation_nightly_queue(now=_at(3))
    assert run is not None and run.trigger == EvalRun.Trigger.NIGHTLY and run.profile == profile
    EvalRun.objects.update(created_at=_at(3))
    assert evaluation_nightly_queue(now=_at(23)) is None
    assert evaluation_nightly_queue(now=_at(3, day=3)) is not None


def test_publishing_knowledge_with_the_setting_off_queues_no_run(default_set, settings,
                                                                  django_capture_on_commit_callbacks) -> None:
    settings.EVAL_ON_PUBLISH = False
    article = article_create(title="Returns", body="Thirty days.", published=False, index=False)
    with django_capture_on_commit_callbacks(execute=True):
        articles_publish(article_ids=[article.pk])
    assert not EvalRun.objects.exists()


def test_publishing_knowledge_queues_one_run_while_one_waits(default_set, settings,
                                                             django_capture_on_commit_callbacks) -> None:
    settings.EVAL_ON_PUBLISH = True
    default_profile()
    first = article_create(title="Returns", body="Thirty days.", published=False, index=False)
    second = article_create(title="Warranty", body="Two years.", published=False, index=False)
    for article in (first, second):
        with django_capture_on_commit_callbacks(execute=True):
            articles_publish(article_ids=[article.pk])
    run = EvalRun.objects.get()
    assert run.trigger == EvalRun.Trigger.PUBLISH


def test_a_waiting_publish_run_absorbs_the_next_publish(default_set, settings) -> None:
    settings.EVAL_ON_PUBLISH = True
    eval_run_factory(default_set, default_profile(), status=EvalRun.Status.QUEUED, trigger=EvalRun.Trigger.PUBLISH)
    assert evaluation_after_publish(version=7) is None
    assert EvalRun.objects.count() == 1
