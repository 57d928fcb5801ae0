"""The gateway against the fake Ollama over real HTTP: the reasoning splitter, what a stream sends and yields,
embeddings and structured answers. A stream's errors, failover, in-flight accounting and closing are in
test_stream_reader.py, for both readers."""

from __future__ import annotations

import pytest

from helpdesk.llm import ollama as gateway
from tests.fake_ollama import Reply

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]


def options(**overrides: object) -> gateway.ChatOptions:
    base = gateway.ChatOptions(
        model="deepseek-r1:7b", temperature=0.7, top_p=0.9, num_predict=512, num_ctx=4096, think=True
    )
    return gateway.ChatOptions(**{**base.__dict__, **overrides})


async def collect(stream: gateway.ChatStream) -> tuple[str, str]:
    visible, reasoning = [], []
    async for piece in stream:
        visible.append(piece.visible)
        reasoning.append(piece.reasoning)
    return "".join(visible), "".join(reasoning)


# --- the reasoning splitter ------------------------------------------------------------


def split_all(chunks: list[str], *, reasoning_first: bool) -> tuple[str, str]:
    splitter = gateway.ReasoningSplitter(reasoning_first=reasoning_first)
    visible, reasoning = "", ""
    for chunk in chunks:
        piece = splitter.feed(chunk)
        visible, reasoning = visible + piece.visible, reasoning + piece.reasoning
    piece = splitter.finish()
    return visible + piece.visible, reasoning + piece.reasoning


def test_splitter_passes_plain_answers_through() -> None:
    assert split_all(["Hel", "lo ", "there"], reasoning_first=False) == ("Hello there", "")


def test_splitter_strips_an_inline_think_block_split_across_chunks() -> None:
    chunks = ["<th", "ink>Let me", " think.</th", "ink>\n\nThe ", "answer."]
    assert split_all(chunks, reasoning_first=False) == ("The answer.", "Let me think.")


def test_splitter_finds_reasoning_without_an_opening_tag_on_old_servers() -> None:
    chunks = ["The user asks", " about X.", "</think>", "\n\nX is ", "fine."]
    assert split_all(chunks, reasoning_first=True) == ("X is fine.", "The user asks about X.")


def test_splitter_releases_held_text_as_the_answer_when_no_closing_tag_comes() -> None:
    assert split_all(["Just ", "an answer."], reasoning_first=True) == ("Just an answer.", "")


def test_splitter_never_leaks_a_partial_closing_tag() -> None:
    splitter = gateway.ReasoningSplitter(reasoning_first=False)
    outputs = [splitter.feed(c) for c in ["<think>abc</", "thi", "nk>ok"]] + [splitter.finish()]
    assert "".join(p.visible for p in outputs) == "ok"
    assert all("<" not in p.visible for p in outputs)


# --- streaming chat against the fake -----------------------------------------------------


async def test_stream_separates_thinking_field_and_reports_stats(fake_ollama) -> None:
    fake_ollama.script(Reply(content="Your order ships today.", thinking="Check the order."))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    visible, reasoning = await collect(stream)
    assert visible == "Your order ships today."
    assert reasoning == "Check the order."
    assert stream.stats.done_reason == "stop"
    assert stream.stats.reply_tokens > 0 and stream.stats.prompt_tokens == 42
    assert stream.host == fake_ollama.url


async def test_stream_sends_think_and_all_options_explicitly(fake_ollama) -> None:
    await collect(await gateway.open_chat_stream(MESSAGES, options(num_ctx=2048, think=False)))
    body = fake_ollama.chat_requests()[-1].body
    assert body["think"] is False
    assert body["stream"] is True
    assert body["options"] == {"temperature": 0.7, "top_p": 0.9, "num_predict": 512, "num_ctx": 2048}


async def test_stream_parses_inline_reasoning_from_servers_before_0_9(fake_ollama) -> None:
    fake_ollama.state.version = "0.5.7"
    fake_ollama.script(Reply(content="Answer.", thinking="Hidden steps.", thinking_style="inline_no_open"))
    visible, reasoning = await collect(await gateway.open_chat_stream(MESSAGES, options()))
    assert (visible, reasoning) == ("Answer.", "Hidden steps.")


async def test_model_without_thinking_support_falls_back_to_inline_parsing(fake_ollama) -> None:
    fake_ollama.script(
        Reply(status=400, error='"deepseek-r1:7b" does not support thinking'),
        Reply(content="Fine.", thinking="Inline steps.", thinking_style="inline"),
    )
    visible, reasoning = await collect(await gateway.open_chat_stream(MESSAGES, options()))
    assert (visible, reasoning) == ("Fine.", "Inline steps.")
    assert [r.body["think"] for r in fake_ollama.chat_requests()] == [True, False]


async def test_one_client_per_node_per_loop_is_reused(fake_ollama) -> None:
    assert gateway.async_client(fake_ollama.url) is gateway.async_client(fake_ollama.url)


async def test_embed_returns_one_vector_per_text(fake_ollama) -> None:
    vectors = await gateway.embed(["你好", "hello"], model="bge-m3")
    assert len(vectors) == 2 and len(vectors[0]) == fake_ollama.state.embed_dimensions


async def test_a_node_down_for_the_version_check_streams_normally_once_back(fake_ollama) -> None:
    """A failed version check is not remembered: the node is not taken for a server older than 0.9, whose
    replies would be held back whole as possible reasoning, once it is back."""
    with fake_ollama.refusing_connections(), pytest.raises(gateway.OllamaUnavailable):
        await gateway.open_chat_stream(MESSAGES, options(), hosts=[fake_ollama.url])
    fake_ollama.script(Reply(content="one two three four five six"))
    stream = await gateway.open_chat_stream(MESSAGES, options(), hosts=[fake_ollama.url])
    pieces = [piece.visible async for piece in stream if piece.visible]
    assert "".join(pieces) == "one two three four five six" and len(pieces) > 1


SCHEMA = {"type": "object", "properties": {"intent": {"type": "string"}}, "required": ["intent"]}


async def test_structured_chat_sends_the_schema_as_format_and_returns_the_object(fake_ollama) -> None:
    fake_ollama.script(Reply(content='{"intent": "refund"}'))
    answer = await gateway.structured_chat(MESSAGES, model="deepseek-r1:7b", schema=SCHEMA, timeout_s=5)
    assert answer == {"intent": "refund"}
    body = fake_ollama.chat_requests()[-1].body
    assert body["format"] == SCHEMA and body["stream"] is False and body["think"] is False


async def test_structured_chat_refuses_an_answer_that_is_not_a_json_object(fake_ollama) -> None:
    fake_ollama.script(Reply(content="refund, I think"))
    with pytest.raises(gateway.OllamaRequestError, match="not the JSON object"):
        await gateway.structured_chat(MESSAGES, model="deepseek-r1:7b", schema=SCHEMA, timeout_s=5)


async def test_structured_chat_keeps_to_its_time_budget(fake_ollama) -> None:
    fake_ollama.script(Reply(content='{"intent": "refund"}', ttft=2.0))
    with pytest.raises(gateway.OllamaUnavailable, match=r"no answer within 0\.2 s"):
        await gateway.structured_chat(MESSAGES, model="deepseek-r1:7b", schema=SCHEMA, timeout_s=0.2)
