from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from conversations import services
from conversations.models import Conversation, Customer, Message
from conversations.outcome import ReplyOutcome

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_conversation_token_is_unguessable_and_url_safe() -> None:
    tokens = {services.conversation_create().token for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_customer_message_is_stored_once_per_client_id(django_capture_on_commit_callbacks) -> None:
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    first, created = services.message_post_customer(conversation=conversation, text=" hi ", client_id="c-1")
    again, created_again = services.message_post_customer(conversation=conversation, text="hi", client_id="c-1")
    assert created and not created_again
    assert first.pk == again.pk
    assert first.content == "hi"
    assert conversation.messages.count() == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty_message"), ("   \n", "empty_message"), (None, "invalid_message"), (42, "invalid_message")],
)
def test_invalid_customer_text_is_rejected_with_a_code(text: object, code: str) -> None:
    conversation = conversation_factory()
    with pytest.raises(services.MessageRejected) as error:
        services.message_post_customer(conversation=conversation, text=text, client_id="c-1")
    assert error.value.code == code
    assert not conversation.messages.exists()


def test_message_over_the_limit_is_rejected(settings) -> None:
    settings.MESSAGE_MAX_CHARS = 10
    conversation = conversation_factory()
    services.message_post_customer(conversation=conversation, text="x" * 10, client_id="ok")
    with pytest.raises(services.MessageRejected) as error:
        services.message_post_customer(conversation=conversation, text="x" * 11, client_id="long")
    assert error.value.code == "message_too_long"
    assert "10" in error.value.detail


@pytest.mark.parametrize("client_id", [None, "", "x" * 65, 7, "bad\nid"])
def test_bad_client_id_is_rejected(client_id: object) -> None:
    with pytest.raises(services.MessageRejected) as error:
        services.message_post_customer(conversation=conversation_factory(), text="hi", client_id=client_id)
    assert error.value.code == "invalid_client_id"


def test_posting_into_a_resolved_conversation_reopens_it_for_the_bot() -> None:
    conversation = conversation_factory(status=Conversation.Status.RESOLVED)
    services.message_post_customer(conversation=conversation, text="one more thing", client_id="c-9")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT


def test_bot_reply_start_claims_one_streaming_reply() -> None:
    question = customer_message_factory(conversation_factory())
    reply = services.bot_reply_start(customer_message_id=question.pk)
    assert reply is not None and reply.status == Message.Status.STREAMING and reply.reply_to_id == question.pk


def test_bot_reply_start_does_not_generate_a_finished_reply_again() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    bot_message_factory(conversation, reply_to=question, status=Message.Status.COMPLETE)
    assert services.bot_reply_start(customer_message_id=question.pk) is None


def test_bot_reply_start_restarts_a_reply_left_streaming_by_a_dead_worker() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    stale = bot_message_factory(conversation, "half a sent", reply_to=question, status=Message.Status.STREAMING)
    cache.set(services.cancel_flag_key(stale.pk), True)
    again = services.bot_reply_start(customer_message_id=question.pk)
    assert again is not None and again.pk == stale.pk and again.content == ""
    assert cache.get(services.cancel_flag_key(stale.pk)) is None


def test_bot_reply_start_leaves_an_older_question_to_the_newer_ones_reply() -> None:
    conversation = conversation_factory()
    older = customer_message_factory(conversation, "first")
    customer_message_factory(conversation, "second")
    assert services.bot_reply_start(customer_message_id=older.pk) is None


def test_bot_reply_start_skips_conversations_a_human_has() -> None:
    question = customer_message_factory(conversation_factory(status=Conversation.Status.WAITING_HUMAN))
    assert services.bot_reply_start(customer_message_id=question.pk) is None


def test_request_human_moves_to_the_queue_and_cancels_streaming_replies() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    streaming = bot_message_factory(conversation, "", reply_to=question, status=Message.Status.STREAMING)
    services.conversation_request_human(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING_HUMAN
    assert conversation.handoff_reason == "customer_request"
    assert cache.get(services.cancel_flag_key(streaming.pk)) is True
    assert conversation.messages.filter(role=Message.Role.SYSTEM).count() == 1


def test_bot_reply_finish_stores_metrics_and_a_notice_on_failure() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    reply = services.bot_reply_start(customer_message_id=question.pk)
    outcome = ReplyOutcome(
        status=Message.Status.FAILED,
        content="",
        model_name="deepseek-r1:7b",
        ollama_host="http://node-a:11434",
        total_ms=12.5,
        error_kind="unavailable",
        error="cannot connect",
        customer_notice="Our assistant is unavailable right now.",
    )
    stored = services.bot_reply_finish(message_id=reply.pk, outcome=outcome)
    assert stored.status == Message.Status.FAILED and stored.ollama_host == "http://node-a:11434"
    assert stored.completed_at is not None
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content.startswith("Our assistant is unavailable")


def test_llm_call_is_recorded_once_from_the_finished_reply() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    reply = bot_message_factory(
        conversation, reply_to=question, model_name="deepseek-r1:7b", ollama_host="http://n:1", ttft_ms=210.0,
        total_ms=900.0, prompt_tokens=40, reply_tokens=30,
    )
    call = services.llm_call_record(message_id=reply.pk)
    assert call is not None and call.outcome == "ok" and call.ttft_ms == 210.0 and call.reply_tokens == 30
    assert services.llm_call_record(message_id=reply.pk) is None


def test_replies_abandoned_by_a_stopped_embedded_server_are_failed() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    abandoned = bot_message_factory(conversation, "half", reply_to=question, status=Message.Status.STREAMING)
    finished = bot_message_factory(conversation, "done", status=Message.Status.COMPLETE)
    assert services.replies_abandoned_fail() == 1
    abandoned.refresh_from_db()
    finished.refresh_from_db()
    assert abandoned.status == Message.Status.FAILED and abandoned.content == "half"
    assert finished.status == Message.Status.COMPLETE


@pytest.mark.django_db(transaction=True)
def test_an_faq_question_is_answered_as_it_is_stored_without_a_task(fake_ollama) -> None:
    from knowledge.tests.factories import faq_create

    faq_create("运费多少钱?", "满199元包邮。", language="zh-hans")
    conversation = conversation_factory()
    message, _ = services.message_post_customer(conversation=conversation, text="运费多少钱", client_id="c-1")
    reply = conversation.messages.get(role=Message.Role.BOT)
    assert reply.reply_to == message and reply.content == "满199元包邮。"
    assert reply.answer_source == Message.AnswerSource.FAQ and reply.status == Message.Status.COMPLETE
    assert fake_ollama.chat_requests() == []


@pytest.mark.django_db(transaction=True)
def test_a_question_after_an_unanswered_one_waits_for_the_task_to_answer_both(fake_ollama, reply_runner) -> None:
    from knowledge.tests.factories import faq_create

    faq_create("运费多少钱?", "满199元包邮。", language="zh-hans")
    conversation = conversation_factory()
    customer_message_factory(conversation, "我想买龙井")  # stored, its reply not started yet
    services.message_post_customer(conversation=conversation, text="运费多少钱", client_id="c-2")
    assert not conversation.messages.filter(role=Message.Role.BOT, answer_source=Message.AnswerSource.FAQ).exists()


def signed(user_id: str, *, name: str = "", email: str = "", age_s: int = 0) -> dict:
    """A user as the host site's server signs it when rendering a page, `age_s` seconds ago."""
    ts = int(time.time()) - age_s
    user = {"id": user_id, "ts": ts, "hash": services.identity_hash(user_id=user_id, name=name, email=email, ts=ts)}
    return {**user, **({"name": name} if name else {}), **({"email": email} if email else {})}


def create(client, user: object) -> object:
    return client.post("/api/v1/conversations", {"user": user}, content_type="application/json")


@pytest.mark.django_db
def test_a_verified_customer_gets_the_same_conversation_on_every_device(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    user = signed("u-42", name="李雷", email="li@example.com")
    first, second = create(client, user), create(client, user)
    assert first.status_code == second.status_code == 201
    assert first.json()["token"] == second.json()["token"]
    conversation = Conversation.objects.get(token=first.json()["token"])
    customer = conversation.customer
    assert (customer.external_id, customer.name, customer.email) == ("u-42", "李雷", "li@example.com")
    # Anonymous visitors each get their own.
    anonymous = client.post("/api/v1/conversations")
    assert anonymous.status_code == 201 and anonymous.json()["token"] != first.json()["token"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "code"),
    [
        ({"id": "u-42", "ts": 1, "hash": "0" * 64}, "identity_refused"),
        ({"id": "u-42", "ts": 1, "hash": "é" * 64}, "identity_refused"),
        ({"id": "u-42"}, "identity_refused"),
        ({"id": True, "hash": "x"}, "identity_invalid"),
        ({"id": "u-42", "name": 7, "hash": "x"}, "identity_invalid"),
        ({"id": "u-42\nli@example.com", "hash": "x"}, "identity_invalid"),
        ("u-42", "identity_invalid"),
    ],
)
def test_a_wrong_identity_is_refused_with_a_clear_error(client, settings, user, code) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    response = create(client, user)
    assert response.status_code == 403 and response.json()["error"] == code
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_a_hash_replayed_with_another_email_or_name_is_refused_and_stores_nothing(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    user = signed("42", name="Li Lei", email="li@example.com")
    assert create(client, user).status_code == 201
    for changed in ({"email": "attacker@example.com"}, {"name": "Mallory"}, {"email": None}):
        response = create(client, {**user, **changed})
        assert response.status_code == 403 and response.json()["error"] == "identity_refused"
    customer = Customer.objects.get(external_id="42")
    assert (customer.name, customer.email) == ("Li Lei", "li@example.com")


@pytest.mark.django_db
def test_an_identity_older_than_its_maximum_age_is_refused(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.WIDGET_IDENTITY_MAX_AGE_S = 3600
    assert create(client, signed("42", age_s=3500)).status_code == 201
    response = create(client, signed("42", email="new@example.com", age_s=3700))
    assert response.status_code == 403 and response.json()["error"] == "identity_expired"
    assert "the limit is 3600 s (WIDGET_IDENTITY_MAX_AGE_S)" in response.json()["detail"]
    assert Customer.objects.get(external_id="42").email == ""


@pytest.mark.django_db
def test_an_identity_signed_in_the_future_is_refused_beyond_the_clock_skew(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.WIDGET_IDENTITY_CLOCK_SKEW_S = 300
    assert create(client, signed("42", age_s=-200)).status_code == 201
    response = create(client, signed("42", age_s=-400))
    assert response.status_code == 403 and response.json()["error"] == "identity_expired"
    assert "check the host server's clock" in response.json()["detail"]


@pytest.mark.django_db
def test_the_id_only_hash_is_refused_saying_what_to_sign(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    response = create(client, {"id": "42", "email": "li@example.com", "hash": services.identity_hash_legacy("42")})
    assert response.status_code == 403 and response.json()["error"] == "identity_refused"
    assert "the identity hash must sign id, name, email and ts" in response.json()["detail"]
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_the_id_only_hash_when_allowed_stores_no_unsigned_name_or_email(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.WIDGET_IDENTITY_ACCEPT_LEGACY_HASH = True
    user = {"id": "42", "name": "Mallory", "email": "attacker@example.com", "hash": services.identity_hash_legacy("42")}
    response = create(client, user)
    assert response.status_code == 201
    customer = Conversation.objects.get(token=response.json()["token"]).customer
    assert (customer.external_id, customer.name, customer.email) == ("42", "", "")
    assert create(client, {**user, "hash": "0" * 64}).status_code == 403


@pytest.mark.django_db
def test_enforced_identity_refuses_anonymous_chats(client, settings) -> None:
    settings.ENFORCE_IDENTITY = True
    response = client.post("/api/v1/conversations")
    assert response.status_code == 403 and response.json()["error"] == "identity_required"


@pytest.mark.django_db
def test_identity_without_a_configured_secret_is_refused(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = ""
    response = client.post("/api/v1/conversations", {"user": {"id": "u", "hash": "x"}}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"] == "identity_not_configured"


def test_the_pre_chat_form_stores_a_name_and_an_email_agents_see_in_the_inbox() -> None:
    from conversations import selectors

    conversation = conversation_factory()
    services.conversation_contact_set(conversation=conversation, name="  Li   Lei ", email=" li@example.com ")
    conversation.refresh_from_db()
    assert (conversation.contact_name, conversation.contact_email) == ("Li Lei", "li@example.com")
    line = selectors.inbox_item(conversation)
    assert (line["contact_name"], line["contact_email"]) == ("Li Lei", "li@example.com")
    assert not conversation.messages.exists()  # the form comes before the conversation: nothing posted in it


def test_pre_chat_fields_are_optional_and_an_empty_one_keeps_what_is_stored() -> None:
    conversation = conversation_factory(contact_email="kept@example.com")
    services.conversation_contact_set(conversation=conversation, name="Mei", email="")
    services.conversation_contact_set(conversation=conversation)
    conversation.refresh_from_db()
    assert (conversation.contact_name, conversation.contact_email) == ("Mei", "kept@example.com")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"email": "not an address"}, "invalid_email"),
        ({"email": 42}, "invalid_email"),
        ({"email": "a@" + "b" * 250 + ".com"}, "invalid_email"),
        ({"name": "x" * 256}, "invalid_name"),
        ({"name": ["Li"]}, "invalid_name"),
        ({"name": "Li\x00Lei"}, "invalid_name"),
    ],
)
def test_a_bad_pre_chat_field_is_refused_and_nothing_is_stored(fields: dict, code: str) -> None:
    conversation = conversation_factory()
    with pytest.raises(services.MessageRejected) as error:
        services.conversation_contact_set(conversation=conversation, **{"name": "Li", **fields})
    assert error.value.code == code
    conversation.refresh_from_db()
    assert (conversation.contact_name, conversation.contact_email) == ("", "")


def test_the_pre_chat_form_is_wanted_only_for_an_unknown_customer_who_has_not_started(settings) -> None:
    from conversations import selectors
    from conversations.models import Customer

    fresh = conversation_factory()
    assert not selectors.prechat_form_wanted(conversation=fresh)  # off by default
    settings.WIDGET_PRECHAT_FORM = True
    assert selectors.prechat_form_wanted(conversation=fresh)
    started = conversation_factory()
    customer_message_factory(started, "hello")
    named = conversation_factory(contact_name="Li")
    verified = conversation_factory(customer=Customer.objects.create(external_id="u-1", name="Li"))
    assert not any(selectors.prechat_form_wanted(conversation=c) for c in (started, named, verified))


def test_a_thumbs_down_with_a_comment_is_shown_to_agents_under_the_reply(django_capture_on_commit_callbacks) -> None:
    from conversations import selectors

    conversation = conversation_factory()
    reply = bot_message_factory(conversation, "It ships today.", reply_to=customer_message_factory(conversation))
    with django_capture_on_commit_callbacks() as pushed:
        services.feedback_record(conversation=conversation, message_id=reply.pk, rating=-1, comment=" wrong size ")
    assert pushed, "open consoles are told at once"
    detail = selectors.conversation_for_agents(conversation_id=conversation.pk)
    [shown] = [m for m in detail["messages"] if m["id"] == reply.pk]
    assert shown["feedback"] == {"rating": -1, "comment": "wrong size"}
    assert "feedback" not in selectors.message_to_dict(reply)  # customers' own view does not carry it


def test_history_carries_the_customers_vote_and_a_resolved_conversation_asks_for_a_rating_until_given() -> None:
    from conversations import selectors

    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Is it organic?")
    reply = bot_message_factory(conversation, "Yes.", reply_to=question)
    services.feedback_record(conversation=conversation, message_id=reply.pk, rating=-1)
    history = selectors.conversation_history(conversation=conversation)
    assert [m.get("feedback") for m in history] == [None, -1]
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)
    conversation.refresh_from_db()
    assert selectors.conversation_to_dict(conversation) == {"status": "resolved", "rate": True}
    services.csat_record(conversation=conversation, score=5)
    assert selectors.conversation_to_dict(conversation) == {"status": "resolved"}
