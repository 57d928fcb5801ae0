from __future__ import annotations

import threading
import time

import pytest

from conversations import notices, pipeline
from conversations.models import LLMCall, Message
from tests.fake_ollama import Reply

from .factories import bot_message_factory, conversation_factory, customer_message_factory


def test_estimate_counts_chinese_characters_one_token_each() -> None:
    assert pipeline.estimate_tokens("你好世界") - pipeline.estimate_tokens("") == 4
    assert pipeline.estimate_tokens("a" * 400) < 110


def test_prompt_keeps_the_newest_turns_that_fit() -> None:
    turns = [("customer", f"question {i} " + "x" * 400) for i in range(20)]
    messages = pipeline.prompt_build(system_prompt="sys", turns=turns, num_ctx=1024, num_predict=256)
    assert messages[0] == {"role": "system", "content": "sys"}
    assert messages[-1]["content"].startswith("question 19")
    assert 1 < len(messages) < 21
    total = sum(pipeline.estimate_tokens(m["content"]) for m in messages)
    assert total <= 1024 - 256


def test_prompt_cuts_a_single_huge_question_instead_of_dropping_it() -> None:
    messages = pipeline.prompt_build(
        system_prompt="sys", turns=[("customer", "y" * 100_000 + "END")], num_ctx=2048, num_predict=512
    )
    assert messages[-1]["role"] == "user" and messages[-1]["content"].endswith("END")
    assert len(messages[-1]["content"]) < 100_000


def test_prompt_maps_roles_and_opens_with_the_customer() -> None:
    turns = [("bot", "Welcome!"), ("customer", "hi"), ("bot", "hello"), ("agent", "I'm Ann"), ("customer", "ok")]
    messages = pipeline.prompt_build(system_prompt="s", turns=turns, num_ctx=4096, num_predict=512)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "assistant", "user"]


@pytest.mark.django_db(transaction=True)
def test_reply_generate_streams_stores_metrics_and_hides_reasoning(fake_ollama) -> None:
    fake_ollama.script(Reply(content="Your parcel left our warehouse today.", thinking="Look up the order."))
    conversation = conversation_factory()
    customer_message_factory(conversation, "Hi")
    bot_message_factory(conversation, "Hello! How can I help?")
    question = customer_message_factory(conversation, "我的包裹在哪里?")
    reply = pipeline.reply_generate(customer_message_id=question.pk)
    assert reply.status == Message.Status.COMPLETE
    assert reply.content == "Your parcel left our warehouse today."
    assert reply.reasoning == "Look up the order."
    assert reply.model_name == "deepseek-r1:7b" and reply.ollama_host == fake_ollama.url
    assert reply.ttft_ms is not None and reply.total_ms >= reply.ttft_ms
    assert reply.prompt_tokens == 42 and reply.reply_tokens > 0 and reply.done_reason == "stop"
    sent = fake_ollama.chat_requests()[-1].body
    assert [m["content"] for m in sent["messages"][1:3]] == [
        "<customer_message>\nHi\n</customer_message>", "Hello! How can I help?"
    ]
    # No knowledge matches: the turn tells the model so (in the customer's language), then asks.
    assert sent["messages"][3]["content"].startswith("知识库中没有")
    assert sent["messages"][3]["content"].endswith("\n<customer_message>\n我的包裹在哪里?\n</customer_message>")
    assert sent["think"] is True
    assert sent["options"] == {"temperature": 0.7, "top_p": 0.9, "num_predict": 512, "num_ctx": 4096}


@pytest.mark.django_db(transaction=True)
def test_reply_generate_is_idempotent(fake_ollama) -> None:
    question = customer_message_factory(conversation_factory())
    first = pipeline.reply_generate(customer_message_id=question.pk)
    assert first is not None
    assert pipeline.reply_generate(customer_message_id=question.pk) is None
    assert len(fake_ollama.chat_requests()) == 1


@pytest.mark.django_db(transaction=True)
def test_unreachable_ollama_fails_the_reply_and_keeps_the_question(settings, dead_ollama_url, caplog) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Are you there?")
    reply = pipeline.reply_generate(customer_message_id=question.pk)
    assert reply.status == Message.Status.FAILED
    assert reply.error and dead_ollama_url in reply.error
    assert dead_ollama_url in caplog.text
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content == notices.UNAVAILABLE_NOTICE
    assert Message.objects.get(pk=question.pk).content == "Are you there?"


@pytest.mark.django_db(transaction=True)
def test_finished_reply_is_logged_by_the_log_turn_task(fake_ollama, reply_runner) -> None:
    question = customer_message_factory(conversation_factory())
    reply = pipeline.reply_generate(customer_message_id=question.pk)
    deadline = time.monotonic() + 15
    while not LLMCall.objects.filter(message=reply).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    call = LLMCall.objects.get(message=reply)
    assert call.outcome == "ok" and call.ollama_host == fake_ollama.url and call.reply_tokens == reply.reply_tokens


def _generate_in_background(question_id: int) -> tuple[threading.Thread, list]:
    """reply_generate on a thread of its own (as a worker runs it), so that the test can watch the row."""
    from helpdesk import aio

    result: list = []

    def run() -> None:
        result.append(aio.with_fresh_connections(pipeline.reply_generate, (), {"customer_message_id": question_id}))
        loop = aio.thread_loop()  # this thread ends here, unlike a worker's: its loop is closed properly
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.django_db(transaction=True)
def test_the_partial_text_is_saved_with_a_heartbeat_while_the_reply_streams(fake_ollama, settings) -> None:
    settings.REPLY_SAVE_INTERVAL_S = 0.1
    text = " ".join(f"w{i}" for i in range(80))
    fake_ollama.script(Reply(content=text, per_token=0.03))
    question = customer_message_factory(conversation_factory())
    thread, _ = _generate_in_background(question.pk)
    seen: list[tuple[str, object]] = []
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        row = Message.objects.filter(reply_to=question, role=Message.Role.BOT).values("status", "content",
                                                                                       "heartbeat_at").first()
        if row and row["status"] == Message.Status.STREAMING and row["content"]:
            seen.append((row["content"], row["heartbeat_at"]))
        time.sleep(0.05)
    thread.join(30)
    assert len(seen) >= 3, "the text was saved several times while it streamed"
    assert all(text.startswith(content) and len(content) < len(text) for content, _ in seen)
    assert seen[-1][1] > seen[0][1], "each save moves the heartbeat on"
    reply = Message.objects.get(reply_to=question)
    assert reply.status == Message.Status.COMPLETE and reply.content == text


@pytest.mark.django_db(transaction=True)
def test_an_attempt_taken_over_stops_streaming_and_leaves_the_reply_to_the_new_one(fake_ollama, settings) -> None:
    settings.REPLY_SAVE_INTERVAL_S = 0.1
    text = " ".join(f"w{i}" for i in range(200))
    fake_ollama.script(Reply(content=text, per_token=0.03))  # 6 s
    question = customer_message_factory(conversation_factory())
    thread, result = _generate_in_background(question.pk)
    deadline = time.monotonic() + 20
    while not Message.objects.filter(reply_to=question).exclude(content="").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # What the sweeper and a new worker do when they take this worker for dead.
    Message.objects.filter(reply_to=question).update(attempts=2, content="")
    taken_at = time.monotonic()
    thread.join(30)
    assert time.monotonic() - taken_at < 2, "the old attempt stopped within a save interval or so"
    reply = Message.objects.get(reply_to=question)
    assert reply.status == Message.Status.STREAMING and reply.content == "" and reply.attempts == 2
    assert result and result[0].status == Message.Status.STREAMING
