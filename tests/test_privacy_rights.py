"""A customer's rights across every app: a whole customer (signed identity, two conversations, votes, a rating,
a handoff with an agent's reply and the audit log, a cached answer, an evaluation case suggested from them,
state in Redis) is exported whole, then erased, and nothing that identifies them is left in any table of the
database or any key or value of the cache; another customer's data is untouched. In both modes: PostgreSQL and
Redis, or SQLite and the in-process cache."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection

from agents import services as agent_services
from agents.models import AuditEvent
from conversations.evaluation import suggestions
from conversations.models import (
    Conversation,
    Customer,
    EvalCase,
    EvalResult,
    EvalRun,
    EvalSet,
    Feedback,
    LLMCall,
    Message,
    PrivacyRequest,
)
from conversations.privacy.erasure import erasure_plan, subject_erase
from conversations.privacy.export import subject_export, transcript_html
from conversations.privacy.subjects import subject_find
from conversations.selectors.customers import customer_find
from conversations.services import cancel, feedback, handoff, identity
from helpdesk import encryption
from helpdesk.web import ratelimits
from knowledge import cache as answer_cache

pytestmark = pytest.mark.django_db


@dataclass
class Person:
    customer: Customer
    conversations: list[Conversation]
    secrets: dict[str, str]  # what identifies them, by what it is
    question: str  # their cached question


def person_build(*, language: str, agent: Any, eval_set: EvalSet) -> Person:
    """A whole customer, made through the application's services where it has them."""
    tag = secrets.token_hex(4)
    if language == "en":
        said = {
            "name": f"Ada Quill {tag}",
            "email": f"ada.{tag}@example.com",
            "external_id": f"shop-user-{tag}",
            "phrase": f"my purple walrus umbrella {tag}",
            "comment": f"the walrus reply was vague {tag}",
            "csat": f"quick but walrus-y {tag}",
            "contact": f"Ada at home {tag}",
            "contact_email": f"ada.home.{tag}@example.net",
        }
    else:
        said = {
            "name": f"王小雨{tag}",
            "email": f"xiaoyu.{tag}@example.cn",
            "external_id": f"用户-{tag}",
            "phrase": f"我的紫色海象雨伞{tag}",
            "comment": f"海象回答不清楚{tag}",
            "csat": f"很快但是海象{tag}",
            "contact": f"小雨在家{tag}",
            "contact_email": f"yu.home.{tag}@example.cn",
        }
    ts = int(time.time())
    conversation = identity.conversation_create(
        user={
            "id": said["external_id"],
            "name": said["name"],
            "email": said["email"],
            "ts": ts,
            "hash": identity.identity_hash(user_id=said["external_id"], name=said["name"], email=said["email"], ts=ts),
        }
    )
    [customer] = customer_find(external_id=said["external_id"])
    second = Conversation.objects.create(
        customer=customer, contact_name=said["contact"], contact_email=said["contact_email"]
    )
    said["token"], said["token2"] = conversation.token, second.token

    question = Message.objects.create(
        conversation=conversation,
        role=Message.Role.CUSTOMER,
        content=f"Where is {said['phrase']}?",
        client_id=f"c-{tag}",
    )
    reply = Message.objects.create(
        conversation=conversation,
        role=Message.Role.BOT,
        reply_to=question,
        content=f"Your {said['phrase']} ships today.",
    )
    LLMCall.objects.create(
        conversation=conversation,
        message=reply,
        model_name="deepseek-r1:7b",
        outcome="ok",
        prompt_tokens=120,
        reply_tokens=30,
    )
    feedback.feedback_record(conversation=conversation, message_id=reply.pk, rating=-1, comment=said["comment"])
    answer_cache.answer_cache_put(
        question=question.content,
        version=7,
        profile="profile-a",
        answer=answer_cache.CachedAnswer(content=reply.content),
    )
    answer_cache.answer_cache_put(
        question=question.content,
        version=8,
        profile="profile-b",
        answer=answer_cache.CachedAnswer(content=reply.content),
    )
    [case] = suggestions.suggestions_accept(eval_set=eval_set, message_ids=[reply.pk])
    run = EvalRun.objects.create(eval_set=eval_set, status=EvalRun.Status.DONE)
    EvalResult.objects.create(
        run=run,
        case=case,
        case_key=case.key,
        question=case.question,
        answer=reply.content,
        expectation=case.expectation,
        passed=False,
    )

    # The second conversation: a handoff, an agent's reply and note (audited), a rating, a reply being stopped.
    asked = Message.objects.create(
        conversation=second, role=Message.Role.CUSTOMER, content=said["phrase"], client_id=f"d-{tag}"
    )
    handoff.conversation_request_human(conversation=second)
    agent_services.conversation_take_over(agent=agent, conversation_id=second.pk)
    answer = agent_services.message_post_agent(
        agent=agent, conversation_id=second.pk, text=f"Found {said['phrase']} for you, {said['name']}."
    )
    agent_services.note_add(agent=agent, conversation_id=second.pk, text=f"{said['name']} lost {said['phrase']}")
    suggestions.suggestions_dismiss(message_ids=[answer.pk])
    agent_services.conversation_resolve(agent=agent, conversation_id=second.pk)
    second.refresh_from_db()
    feedback.csat_record(conversation=second, score=4, comment=said["csat"])
    streaming = Message.objects.create(
        conversation=conversation, role=Message.Role.BOT, reply_to=asked, status=Message.Status.STREAMING, content=""
    )
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.BOT)
    cancel.replies_cancel(conversation=conversation)
    assert cancel.cancel_flags_clear(message_ids=[]) == 0 and streaming.pk
    for each in (conversation, second):
        ratelimits.message_check(conversation_id=each.pk, client_ip="203.0.113.9")
        ratelimits.socket_admit(conversation_id=each.pk, socket_id=f"socket-{tag}")
    return Person(customer=customer, conversations=[conversation, second], secrets=said, question=question.content)


@pytest.fixture
def people(settings) -> tuple[Person, Person]:
    settings.WIDGET_IDENTITY_SECRET = "privacy-test-secret"
    settings.ANSWER_CACHE_ENABLED = True
    agent = get_user_model().objects.create_user("agent-privacy", password="pw", first_name="Mei")
    eval_set = EvalSet.objects.create(name="privacy-cases")
    return (
        person_build(language="en", agent=agent, eval_set=eval_set),
        person_build(language="zh-hans", agent=agent, eval_set=eval_set),
    )


# --- where anything could be left ----------------------------------------------------------------


def database_texts() -> Iterator[tuple[str, str, str]]:
    """Every non-empty value of every column of every table, as text: (table, column, text)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes):
                        text = bytes(value).decode("utf-8", "ignore")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    if encryption.is_encrypted(text):  # encrypted at rest: what it holds is what counts
                        text = encryption.decrypt(text)
                    yield table, column, text


def cache_texts() -> Iterator[tuple[str, str]]:
    """Every key and value in Redis (production) or the in-process cache (embedded), as text."""
    if settings.REDIS_URL:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        for key in redis.scan_iter(count=1000):
            values = redis_values(redis, key)
            name = key.decode("utf-8", "ignore")
            yield name, name
            for value in values:
                yield name, (value or b"").decode("utf-8", "ignore") if isinstance(value, bytes) else str(value)
    else:
        backend = caches["default"]
        for key, value in list(backend._cache.items()):
            yield key, key
            yield key, bytes(value).decode("utf-8", "ignore")
        for key in ratelimits._memory_sockets:
            yield key, key


def redis_values(redis: Any, key: bytes) -> list[Any]:
    kind = redis.type(key).decode()
    if kind == "string":
        return [redis.get(key)]
    if kind == "list":
        return redis.lrange(key, 0, -1)
    if kind == "set":
        return list(redis.smembers(key))
    if kind == "zset":
        return redis.zrange(key, 0, -1)
    if kind == "hash":
        return [item for pair in redis.hgetall(key).items() for item in pair]
    return [redis.dump(key)]  # a stream or a newer type: its serialised form


def traces_of(person: Person) -> list[str]:
    """Where any of the person's identifying strings is found (raw, or \\u-escaped as JSON columns keep it)."""
    needles = set()
    for value in person.secrets.values():
        needles |= {value, json.dumps(value)[1:-1], value.lower()}
    # The keyed hashes that stand for the contact fields in SQL identify the person as well.
    for model, field, secret in ((Customer, "external_id_hash", "external_id"), (Customer, "email_hash", "email"),
                                 (Conversation, "contact_email_hash", "contact_email")):
        needles.add(model._meta.get_field(field).hash_of(person.secrets[secret]))
    found = [f"db {table}.{column}" for table, column, text in database_texts() if any(n in text for n in needles)]
    found += [f"cache {key}" for key, text in cache_texts() if any(n in text for n in needles)]
    return found


# --- the tests --------------------------------------------------------------------------------------


def test_an_export_holds_all_of_one_customer_and_nothing_of_another(people) -> None:
    ada, yu = people
    subject = subject_find(external_id=ada.secrets["external_id"], email=ada.secrets["email"])
    exported = json.dumps(subject_export(subject), ensure_ascii=False, default=str)
    data = subject_export(subject)["data"]
    for what in ("name", "email", "external_id", "phrase", "comment", "csat", "contact", "contact_email"):
        assert ada.secrets[what] in exported, what
    assert ada.secrets["token"] not in exported and ada.secrets["token2"] not in exported  # the key stays out
    assert not any(value in exported for value in yu.secrets.values())
    assert len(data["conversations.conversation"]) == 2 and len(data["conversations.customer"]) == 1
    assert {
        len(data[label])
        for label in (
            "conversations.feedback",
            "conversations.evalcase",
            "conversations.evalresult",
            "conversations.evalsuggestiondismissal",
            "conversations.llmcall",
        )
    } == {1}
    assert len(data["agents.auditevent"]) >= 4  # take over, reply, note, resolve

    html = transcript_html(subject_find(external_id=yu.secrets["external_id"]), language="zh-hans")
    assert yu.secrets["phrase"] in html and yu.secrets["name"] in html and yu.secrets["csat"] in html
    assert "您" in html or "你" in html  # the labels are in Chinese
    assert "lost" not in html and yu.secrets["name"] + " lost" not in html  # a private note is the agents'
    assert ada.secrets["phrase"] not in html


def test_an_erasure_leaves_nothing_that_identifies_the_customer_anywhere(people, django_capture_on_commit_callbacks):
    ada, yu = people
    for person in people:
        assert traces_of(person), "the scan finds a customer before the erasure (else it proves nothing)"
    assert any(key for key, text in cache_texts() if ada.secrets["phrase"] in text), "the cached answer is seen"
    audit_before, calls_before, results_before = (
        AuditEvent.objects.count(),
        LLMCall.objects.count(),
        EvalResult.objects.count(),
    )

    subject = subject_find(external_id=ada.secrets["external_id"], email=ada.secrets["email"])
    plan = erasure_plan(subject)
    assert plan.counts["conversations.message"] == Message.objects.filter(conversation__customer=ada.customer).count()
    assert plan.counts["agents.auditevent"] >= 4
    yu_messages = Message.objects.filter(conversation__customer=yu.customer).count()
    with django_capture_on_commit_callbacks(execute=True):
        record = subject_erase(
            subject,
            channel=PrivacyRequest.Channel.COMMAND,
            looked_up_by="external_id",
            value=ada.secrets["external_id"],
        )

    assert traces_of(ada) == []
    assert answer_cache.answer_cache_get(question=ada.question, version=7, profile="profile-a") is None
    record.refresh_from_db()
    assert record.completed_at and record.counts["store:answer cache"] == 2
    assert record.counts["conversations.customer"] == 1 and record.counts["conversations.conversation"] == 2
    # What others rely on is kept, without the way back to the customer.
    assert (AuditEvent.objects.count(), LLMCall.objects.count(), EvalResult.objects.count()) == (
        audit_before,
        calls_before,
        results_before,
    )
    assert AuditEvent.objects.filter(details={"erased": True}, conversation__isnull=True).count() >= 4
    # Redis state about the conversations went with them.
    for conversation in ada.conversations:
        stats = ratelimits.limiter().get_window_stats(
            ratelimits.rate(settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION),
            "messages_per_conversation",
            str(conversation.pk),
        )
        assert stats.remaining == ratelimits.rate(settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION).amount

    # The other customer is whole.
    assert traces_of(yu)
    assert Customer.objects.filter(pk=yu.customer.pk).exists()
    assert Message.objects.filter(conversation__customer=yu.customer).count() == yu_messages
    assert Feedback.objects.filter(conversation__customer=yu.customer).count() == 1
    assert EvalCase.objects.filter(suggested_from__conversation__customer=yu.customer).count() == 1
    assert answer_cache.answer_cache_get(question=yu.question, version=7, profile="profile-a") is not None
    stats = ratelimits.limiter().get_window_stats(
        ratelimits.rate(settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION),
        "messages_per_conversation",
        str(yu.conversations[0].pk),
    )
    assert stats.remaining < ratelimits.rate(settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION).amount


def test_a_token_erases_its_one_conversation_only(people, django_capture_on_commit_callbacks) -> None:
    ada, _ = people
    subject = subject_find(token=ada.secrets["token2"])
    assert subject.conversation_ids == {ada.conversations[1].pk} and not subject.customer_ids
    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(subject, channel=PrivacyRequest.Channel.ADMIN, looked_up_by="token", value=ada.secrets["token2"])
    assert not Conversation.objects.filter(pk=ada.conversations[1].pk).exists()
    assert Conversation.objects.filter(pk=ada.conversations[0].pk).exists()
    assert Customer.objects.filter(pk=ada.customer.pk).exists()


def test_nothing_found_is_an_empty_subject(people) -> None:
    assert subject_find(external_id="nobody", email="nobody@example.com", token="x" * 43).empty
    assert subject_find().empty
    # An email matches whatever its case.
    ada, _ = people
    assert subject_find(email=ada.secrets["email"].upper()).customer_ids == {ada.customer.pk}
    assert subject_find(email=ada.secrets["contact_email"]).conversation_ids == {ada.conversations[1].pk}
