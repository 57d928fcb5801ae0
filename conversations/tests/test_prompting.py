"""conversations.prompting: what the model is sent."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from conversations import prompting
from helpdesk.llm.profiles import profile_default
from helpdesk.llm.text import estimate_tokens


def test_estimate_counts_chinese_characters_one_token_each() -> None:
    assert estimate_tokens("你好世界") - estimate_tokens("") == 4
    assert estimate_tokens("a" * 400) < 110


def test_prompt_keeps_the_newest_turns_that_fit() -> None:
    turns = [("customer", f"question {i} " + "x" * 400) for i in range(20)]
    messages = prompting.prompt_build(system_prompt="sys", turns=turns, num_ctx=1024, num_predict=256)
    assert messages[0] == {"role": "system", "content": "sys"}
    assert messages[-1]["content"].startswith("question 19")
    assert 1 < len(messages) < 21
    total = sum(estimate_tokens(m["content"]) for m in messages)
    assert total <= 1024 - 256


def test_prompt_cuts_a_single_huge_question_instead_of_dropping_it() -> None:
    messages = prompting.prompt_build(
        system_prompt="sys", turns=[("customer", "y" * 100_000 + "END")], num_ctx=2048, num_predict=512
    )
    assert messages[-1]["role"] == "user" and messages[-1]["content"].endswith("END")
    assert len(messages[-1]["content"]) < 100_000


def test_prompt_maps_roles_and_opens_with_the_customer() -> None:
    turns = [("bot", "Welcome!"), ("customer", "hi"), ("bot", "hello"), ("agent", "I'm Ann"), ("customer", "ok")]
    messages = prompting.prompt_build(system_prompt="s", turns=turns, num_ctx=4096, num_predict=512)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "assistant", "user"]


@pytest.mark.django_db(transaction=True)
def test_the_cache_key_changes_with_what_shapes_the_answer(settings) -> None:
    profile = profile_default()
    key = prompting.profile_cache_key(profile, question="Do you take Mastercard?")
    assert prompting.profile_cache_key(profile, question="你们收万事达卡吗?") != key  # language, system prompt
    settings.RETRIEVAL_TOP_K = 2
    assert prompting.profile_cache_key(profile, question="Do you take Mastercard?") != key
    settings.RETRIEVAL_TOP_K = django_settings.RETRIEVAL_TOP_K
    settings.SECRET_KEY = "another deployment's secret"  # another canary in the system prompt
    assert prompting.profile_cache_key(profile, question="Do you take Mastercard?") != key
