"""Retention: expired rows go in batches, open conversations and unexpired rows stay, summaries are kept."""

from __future__ import annotations

import runpy
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Conversation, Customer, DailySummary, Feedback, LLMCall, Message
from conversations.privacy.retention import (
    retention_enforce,
    retention_periods,
    retention_plan,
    retention_settings_check,
)
from conversations.services.summaries import summaries_fill
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from helpdesk.privacy import holders
from helpdesk.settings import env_periods

pytestmark = pytest.mark.django_db

DEFAULT_PERIODS = "messages=180,conversations=180,feedback=180,customers=180,llm_calls=90,audit=730"
TEXTS = ("Where is my order?", "我的订单在哪里？", "Refund to card 6222 0000 1111 2222", "请帮我改一下收货地址")


def at(row: Any, when: datetime, **fields: Any) -> Any:
    type(row).objects.filter(pk=row.pk).update(created_at=when, **fields)
    return row


def chat(when: datetime, *, turns: int, status: str = Conversation.Status.BOT) -> Conversation:
    """A conversation whose `turns` customer messages and bot replies were all written at `when`."""
    conversation = at(conversation_factory(status=status), when, last_message_at=when)
    for i in range(turns):
        at(customer_message_factory(conversation, TEXTS[i % len(TEXTS)]), when)
        at(
            bot_message_factory(
                conversation, answer_source=Message.AnswerSource.LLM, ttft_ms=100.0 + i, total_ms=900.0
            ),
            when,
        )
    return conversation


@pytest.fixture
def periods(settings):
    settings.RETENTION_DAYS = {
        "messages": 30,
        "conversations": 60,
        "feedback": 30,
        "customers": 90,
        "llm_calls": 30,
        "audit": 365,
    }
    return settings


def test_expired_messages_go_in_batches_and_the_rest_stays(periods) -> None:
    now = timezone.now()
    old = [chat(now - timedelta(days=40, hours=h), turns=5) for h in range(5)]  # 5 x 10 = 50 expired messages
    recent = chat(now - timedelta(days=2), turns=3)
    summaries_fill()
    before = {d.day: d.customer_messages for d in DailySummary.objects.all()}
    assert sum(before.values()) == 28

    with CaptureQueriesContext(connection) as queries:
        report = retention_enforce(batch_size=7)
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "conversations_message"')]
    assert len(deletes) == 8  # ceil(50 / 7): one statement, one transaction, per batch
    assert len(report.batch_seconds) >= 8 and report.deleted["conversations.Message"] == 50
    assert not Message.objects.filter(conversation__in=old).exists()
    assert Message.objects.filter(conversation=recent).count() == 6
    # The old conversations themselves have 60 days: they stay, emptied of their messages.
    assert Conversation.objects.filter(pk__in=[c.pk for c in old]).count() == 5
    # The days they were written on keep their figures, frozen.
    assert {d.day: d.customer_messages for d in DailySummary.objects.all()} == before
    assert DailySummary.objects.filter(day=timezone.localdate(now - timedelta(days=40)), final=True).exists()
    # Resumable and idempotent: nothing is left for a second run.
    assert retention_enforce(batch_size=7).total == 0


def test_a_conversation_expires_by_its_last_message_and_takes_its_rows(periods) -> None:
    now = timezone.now()
    stale = chat(now - timedelta(days=90), turns=4)
    reply = stale.messages.filter(role=Message.Role.BOT).first()
    Feedback.objects.create(conversation=stale, message=reply, rating=-1)
    LLMCall.objects.create(conversation=stale, message=reply, model_name="qwen3", outcome=LLMCall.Outcome.OK)
    # Started long ago, but written in last week: kept, and so are its recent messages.
    going_on = chat(now - timedelta(days=90), turns=1)
    Conversation.objects.filter(pk=going_on.pk).update(last_message_at=now - timedelta(days=7))
    at(customer_message_factory(going_on, "还在吗？"), now - timedelta(days=7))

    report = retention_enforce(batch_size=3)
    assert not Conversation.objects.filter(pk=stale.pk).exists()
    assert not Feedback.objects.filter(conversation_id=stale.pk).exists()
    assert report.deleted["conversations.Conversation"] == 1
    assert Conversation.objects.filter(pk=going_on.pk).exists()
    assert list(going_on.messages.values_list("content", flat=True)) == ["还在吗？"]


def test_open_conversations_keep_their_rows(periods) -> None:
    now = timezone.now()
    waiting = chat(now - timedelta(days=100), turns=2, status=Conversation.Status.WAITING_HUMAN)
    held = chat(now - timedelta(days=100), turns=2, status=Conversation.Status.HUMAN)
    streaming = chat(now - timedelta(days=100), turns=1)
    at(bot_message_factory(streaming, status=Message.Status.STREAMING), now - timedelta(days=100))
    resolved = chat(now - timedelta(days=100), turns=2, status=Conversation.Status.RESOLVED)

    retention_enforce()
    assert Message.objects.filter(conversation=waiting).count() == 4
    assert Message.objects.filter(conversation=held).count() == 4
    assert Message.objects.filter(conversation=streaming).count() == 3
    assert not Conversation.objects.filter(pk=resolved.pk).exists()


def test_the_audit_trail_and_ollama_calls_have_their_own_periods(periods) -> None:
    audit_event = apps.get_model("agents", "AuditEvent")
    now = timezone.now()
    conversation = chat(now - timedelta(days=1), turns=1)
    old_event = audit_event.objects.create(action="take_over", conversation=conversation)
    new_event = audit_event.objects.create(action="resolve", conversation=conversation)
    audit_event.objects.filter(pk=old_event.pk).update(created_at=now - timedelta(days=400))
    call = LLMCall.objects.create(conversation=conversation, model_name="qwen3", outcome=LLMCall.Outcome.OK)
    LLMCall.objects.filter(pk=call.pk).update(created_at=now - timedelta(days=31))

    retention_enforce()
    assert list(audit_event.objects.values_list("pk", flat=True)) == [new_event.pk]
    assert not LLMCall.objects.exists()
    assert conversation.messages.count() == 2


def test_a_customer_record_expires_when_last_seen_long_ago_unless_a_chat_of_theirs_is_open(periods) -> None:
    now = timezone.now()
    gone = Customer.objects.create(external_id="u-1", name="Li Lei", email="li@example.com")
    waiting = Customer.objects.create(external_id="u-2", name="韩梅梅", email="han@example.com")
    recent = Customer.objects.create(external_id="u-3", name="Jim Green")
    Customer.objects.filter(pk__in=[gone.pk, waiting.pk]).update(last_seen_at=now - timedelta(days=120))
    kept_chat = chat(now - timedelta(days=10), turns=1)
    Conversation.objects.filter(pk=kept_chat.pk).update(customer=gone)
    Conversation.objects.filter(pk=chat(now - timedelta(days=120), turns=1, status="waiting_human").pk).update(
        customer=waiting
    )

    retention_enforce()
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"u-2", "u-3"}
    assert recent.pk and Conversation.objects.filter(pk=kept_chat.pk, customer=None).exists()  # unlinked, kept


def test_a_period_of_zero_or_none_keeps_forever_and_a_channel_period_wins(settings) -> None:
    settings.RETENTION_DAYS = {"messages": 0, "llm_calls": 90, "web.llm_calls": 14, "web.audit": 365}
    assert retention_periods() == {"llm_calls": 14, "audit": 365}
    old = chat(timezone.now() - timedelta(days=3000), turns=2)
    retention_enforce()
    assert Message.objects.filter(conversation=old).count() == 4


def test_every_registered_category_has_a_default_period() -> None:
    """A DPO expects finite periods out of the box: each category some registered model uses has one."""
    defaults = env_periods("RETENTION_DAYS_UNSET_IN_TESTS", DEFAULT_PERIODS)
    categories = {h.retention for h in holders() if h.retention}
    assert {"messages", "conversations", "feedback", "customers", "llm_calls", "audit"} <= categories <= set(defaults)
    assert all(days > 0 for days in defaults.values())


def test_malformed_or_unknown_periods_are_refused(settings, monkeypatch) -> None:
    for bad in ("messages=half a year", "messages", "a.b.messages=3", "=5"):
        monkeypatch.setenv("RETENTION_DAYS_TEST", bad)
        with pytest.raises(RuntimeError, match="category=days"):
            env_periods("RETENTION_DAYS_TEST", "")
    settings.RETENTION_DAYS = {"mesages": 30, "email.messages": 30, "web.messages": 30}
    errors = retention_settings_check()
    assert [e.id for e in errors] == ["conversations.E301", "conversations.E301"]
    assert "mesages" in errors[0].msg and "email.messages" in errors[1].msg


def test_the_command_dry_runs_by_default_and_applies_when_asked(periods) -> None:
    old = chat(timezone.now() - timedelta(days=45), turns=3)
    out = StringIO()
    call_command("retention", stdout=out)
    text = out.getvalue()
    assert "conversations.Message" in text and "6 rows" in text and "Dry run" in text
    assert "Where is my order" not in text and "订单" not in text  # counts, never content
    assert Message.objects.filter(conversation=old).count() == 6
    plan = {row.model: row for row in retention_plan()}
    assert plan["conversations.Message"].count == 6 and plan["conversations.Conversation"].count == 0

    out = StringIO()
    call_command("retention", "--apply", "--batch-size", "4", stdout=out)
    assert "deleted         6 conversations.Message" in out.getvalue()
    assert not Message.objects.filter(conversation=old).exists()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("retention", "--apply", "--batch-size", "0")


def test_the_beat_task_is_off_with_retention_disabled(periods) -> None:
    from conversations.tasks import retention_enforce as task

    old = chat(timezone.now() - timedelta(days=45), turns=1)
    periods.RETENTION_ENABLED = False
    task.apply()
    assert Message.objects.filter(conversation=old).count() == 2
    periods.RETENTION_ENABLED = True
    task.apply()
    assert not Message.objects.filter(conversation=old).exists()


@pytest.mark.parametrize(("lang", "heading"), [("en", "Rows to delete"), ("zh-hans", "待删除行数")])
def test_the_admin_dry_run_lists_what_would_go_and_deletes_nothing(periods, staff_client, lang, heading) -> None:
    from django.urls import reverse

    old = chat(timezone.now() - timedelta(days=45), turns=2)
    page = staff_client.get(reverse("admin:conversations_dailysummary_retention"), HTTP_ACCEPT_LANGUAGE=lang)
    assert page.status_code == 200
    text = page.content.decode()
    assert heading in text and 'class="retention-count">4<' in text and "conversations.Message" in text
    assert Message.objects.filter(conversation=old).count() == 4
    listing = staff_client.get(reverse("admin:conversations_dailysummary_changelist"), HTTP_ACCEPT_LANGUAGE=lang)
    assert reverse("admin:conversations_dailysummary_retention") in listing.content.decode()


def test_the_admin_dry_run_needs_the_permission_to_see_summaries(client) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    client.force_login(get_user_model().objects.create_user("clerk", password="pw", is_staff=True))
    assert client.get(reverse("admin:conversations_dailysummary_retention")).status_code == 403


def _settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """helpdesk/settings.py loaded afresh on `env`, as a process starting with it would load it."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(__file__).resolve().parents[2] / "helpdesk" / "settings.py"))


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"RETENTION_BATCH_SIZE": "0"}, "RETENTION_BATCH_SIZE"),
        ({"RETENTION_DAYS": "messages=six months"}, "category=days"),
        ({"WIDGET_PRIVACY_NOTICE_URL": "javascript:alert(1)"}, "WIDGET_PRIVACY_NOTICE_URL"),
        ({"WIDGET_PRIVACY_NOTICE_URL": "shop.example/privacy"}, "WIDGET_PRIVACY_NOTICE_URL"),
    ],
)
def test_unsafe_settings_stop_the_process_with_a_clear_error(monkeypatch, env, refusal) -> None:
    with pytest.raises(RuntimeError, match=refusal):
        _settings_with(monkeypatch, **env)


def test_the_settings_defaults_keep_data_for_finite_periods_and_show_no_notice(monkeypatch) -> None:
    for name in ("RETENTION_DAYS", "RETENTION_ENABLED", "RETENTION_BATCH_SIZE", "WIDGET_PRIVACY_NOTICE_URL"):
        monkeypatch.delenv(name, raising=False)
    loaded = _settings_with(monkeypatch, WIDGET_PRIVACY_NOTICE_TEXT_ZH="我们会记录聊天")
    assert loaded["RETENTION_DAYS"] == {
        "messages": 180,
        "conversations": 180,
        "feedback": 180,
        "customers": 180,
        "llm_calls": 90,
        "audit": 730,
    }
    assert loaded["RETENTION_ENABLED"] is True and loaded["RETENTION_BATCH_SIZE"] == 1000
    assert loaded["WIDGET_PRIVACY_NOTICE_URL"] == "" and loaded["WIDGET_PRIVACY_NOTICE_TEXT_ZH"] == "我们会记录聊天"
    assert _settings_with(monkeypatch, RETENTION_DAYS="Messages=30, web.audit=0")["RETENTION_DAYS"] == {
        "messages": 30,
        "web.audit": 0,
    }
