"""Model profiles: one default, canary shares by a stable hash, options and prompts per profile."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conversations.models import LLMCall, Message
from conversations.pipeline.reply import reply_generate
from conversations.prompting import system_prompt_for
from conversations.services import identity, replies
from conversations.tests.factories import customer_message_factory
from helpdesk.llm import profiles
from helpdesk.models import ModelProfile
from helpdesk.tests.factories import canary_profile, default_profile
from tests.fake_ollama import Reply


def unsaved(name: str, share: float) -> ModelProfile:
    return ModelProfile(name=name, canary_share=share)


def test_canary_share_is_honoured_within_a_percent_over_ten_thousand_conversations() -> None:
    default, canary = unsaved("default", 0), unsaved("canary", 10)
    chosen = [
        profiles.profile_choose(profiles.canary_bucket(f"conversation-{i}"), default=default, canaries=[canary])
        for i in range(10_000)
    ]
    share = chosen.count(canary) / len(chosen) * 100
    assert 9.0 <= share <= 11.0, share


def test_the_same_key_always_lands_in_the_same_bucket() -> None:
    buckets = [profiles.canary_bucket("a-token") for _ in range(5)]
    assert len(set(buckets)) == 1 and 0 <= buckets[0] < 100
    assert profiles.canary_bucket("a-token") != profiles.canary_bucket("another-token")


def test_raising_a_share_only_adds_conversations_to_the_canary() -> None:
    default = unsaved("default", 0)
    keys = [f"k{i}" for i in range(2_000)]

    def canary_keys(share: float) -> set[str]:
        canary = unsaved("canary", share)
        return {
            k for k in keys
            if profiles.profile_choose(profiles.canary_bucket(k), default=default, canaries=[canary]) is canary
        }

    ten, twenty = canary_keys(10), canary_keys(20)
    assert ten < twenty and not canary_keys(0) and canary_keys(100) == set(keys)


def test_two_canaries_take_their_own_shares() -> None:
    default, first, second = unsaved("default", 0), unsaved("a", 20), unsaved("b", 30)
    chosen = [
        profiles.profile_choose(profiles.canary_bucket(f"c{i}"), default=default, canaries=[first, second])
        for i in range(10_000)
    ]
    assert 19 <= chosen.count(first) / 100 <= 21 and 29 <= chosen.count(second) / 100 <= 31


@pytest.mark.django_db
def test_new_conversations_are_assigned_by_share_and_keep_their_profile() -> None:
    default = default_profile()
    canary = canary_profile(share=50)
    conversations = [identity.conversation_create() for _ in range(200)]
    on_canary = [c for c in conversations if c.profile_id == canary.pk]
    assert 60 <= len(on_canary) <= 140  # 50 % of 200, far outside chance otherwise
    assert all(c.profile_id in (default.pk, canary.pk) for c in conversations)
    assert all(c.profile_id == profiles.profile_for_new_conversation(key=c.token).pk for c in conversations)

    profiles.profile_save(profile=canary, canary_share=100)  # changed in admin: no restart
    assert identity.conversation_create().profile_id == canary.pk
    kept = [c for c in conversations if c.profile_id == default.pk]
    assert all(profiles.profile_in_force(profile_id=c.profile_id) == default for c in kept)


@pytest.mark.django_db
def test_rolling_a_canary_back_returns_its_conversations_to_the_default() -> None:
    default = default_profile()
    canary = canary_profile(share=100)
    conversation = identity.conversation_create()
    assert profiles.profile_in_force(profile_id=conversation.profile_id) == canary
    profiles.profile_save(profile=canary, canary_share=0)
    assert profiles.profile_in_force(profile_id=conversation.profile_id) == default
    assert identity.conversation_create().profile_id == default.pk


@pytest.mark.django_db
def test_exactly_one_profile_is_the_default() -> None:
    old = default_profile()
    new = canary_profile("bigger", share=30)
    profiles.profile_save(profile=new, is_default=True)
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.is_default and not old.is_default and new.canary_share == 0
    with pytest.raises(ValidationError):
        profiles.profile_save(profile=new, is_default=False)  # nothing would be the default
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelProfile.objects.filter(pk=old.pk).update(is_default=True)


@pytest.mark.django_db
def test_canary_shares_add_up_to_at_most_a_hundred() -> None:
    canary_profile("a", share=60)
    with pytest.raises(ValidationError, match="100"):
        canary_profile("b", share=50)
    assert canary_profile("c", share=40).canary_share == 40


@pytest.mark.django_db
def test_without_a_stored_profile_the_settings_answer(settings) -> None:
    ModelProfile.objects.all().delete()
    settings.OLLAMA_CHAT_MODEL = "deepseek-r1:1.5b"
    assert profiles.profile_default().model == "deepseek-r1:1.5b"
    assert identity.conversation_create().profile_id is None


@pytest.mark.django_db(transaction=True)
def test_a_reply_is_generated_with_its_conversations_profile_and_records_it(fake_ollama) -> None:
    fake_ollama.state.models.append("deepseek-r1:14b")
    canary = canary_profile(
        share=100, model="deepseek-r1:14b", temperature=0.3, top_p=0.8, num_predict=256, num_ctx=8192, think=False,
        keep_alive="5m", system_prompt_en="Canary prompt.", system_prompt_zh="金丝雀提示。",
    )
    conversation = identity.conversation_create()
    question = customer_message_factory(conversation, "你们几点发货？", profile_id=conversation.profile_id)
    fake_ollama.script(Reply(content="下午四点前的订单当天发货。"))
    reply = reply_generate(customer_message_id=question.pk)

    [request] = fake_ollama.chat_requests()
    assert request.body["model"] == "deepseek-r1:14b" and request.body["think"] is False
    assert request.body["options"] == {"temperature": 0.3, "top_p": 0.8, "num_predict": 256, "num_ctx": 8192}
    assert request.body["keep_alive"] == "5m"
    assert request.body["messages"][0] == {"role": "system", "content": system_prompt_for(canary, "zh-hans")}
    assert "\n金丝雀提示。\n" in request.body["messages"][0]["content"]
    assert reply.profile_id == canary.pk and reply.model_name == "deepseek-r1:14b"
    # The reply's own log_turn task may record the call first (a thread in embedded mode): one record either way.
    replies.llm_call_record(message_id=reply.pk)
    assert LLMCall.objects.get(message=reply).profile_id == canary.pk
    assert set(Message.objects.filter(conversation=conversation).values_list("profile_id", flat=True)) == {canary.pk}
    assert LLMCall.objects.get(message=reply).model_name == "deepseek-r1:14b"


@pytest.mark.django_db(transaction=True)
def test_each_profiles_handoff_threshold_applies_to_its_own_replies(fake_ollama) -> None:
    canary_profile(share=100, model="deepseek-r1:7b", handoff_threshold=0.99)
    conversation = identity.conversation_create()
    question = customer_message_factory(conversation, "hello there", profile_id=conversation.profile_id)
    fake_ollama.script(Reply(content="Hello! How can I help?"))
    reply = reply_generate(customer_message_id=question.pk)
    conversation.refresh_from_db()
    assert reply.confidence < 0.99 and conversation.handoff_reason == "low_confidence"
