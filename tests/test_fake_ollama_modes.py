"""The fake Ollama's answering modes: citing the first source's sentences closest to the question, and the same
with one number changed (the model misquoting its source that number verification must catch).

The prompts are built by the product's own prompting module, so a change to its layout that the fake no longer
reads fails here rather than as an evaluation that silently stops citing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conversations import prompting
from tests.fake_ollama import FakeOllama, Reply, cited_answer, number_changed, schema_instance, source_sentences
from tests.support.environment import free_port

ROOT = Path(__file__).resolve().parents[1]

SHIPPING = (
    "Every order is packed by hand in our studio.\n\n"
    "- **Free standard shipping** on orders over ¥199.\n"
    "- Orders below ¥199 pay a flat fee of **¥12**.\n"
    "- **Next-day express** is available for ¥25 at checkout, whatever the order value.\n\n"
    "The shipping fee is shown on the checkout page before you pay."
)
WARRANTY_ZH = (
    "白瓷盖碗等茶具都是为日常使用而做的。如果收到的茶具已经破损，请在签收后 48 小时内联系我们。"
    "我们会免费补发新品，破损件无需寄回。"
)
GREETING = "Our team loves tea. We reply to every message with care. Thank you for shopping with us."


def chat_body(question: str, *sources: str) -> dict[str, Any]:
    """A chat request as the product sends it: the customer's turn with its numbered sources, then the question."""
    numbered = [(None, f"[{n}] Source {n} › Section\n{text}") for n, text in enumerate(sources, start=1)]
    turn = prompting.grounded_turn(question=question, sources=numbered)  # type: ignore[arg-type]
    return {"model": "deepseek-r1:7b", "messages": [{"role": "system", "content": "Be kind."},
                                                   {"role": "user", "content": turn}]}


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


def test_the_cited_answer_quotes_the_two_sentences_closest_to_the_question_in_source_order() -> None:
    answer = cited_answer(chat_body("What does next-day express cost, and is the fee shown at checkout?", SHIPPING))
    assert answer == (
        "**Next-day express** is available for ¥25 at checkout, whatever the order value. "
        "The shipping fee is shown on the checkout page before you pay. [1]"
    )


def test_the_cited_answer_matches_chinese_questions_by_character_pairs() -> None:
    answer = cited_answer(chat_body("盖碗碎了，破损件要寄回吗？", WARRANTY_ZH))
    assert answer == "白瓷盖碗等茶具都是为日常使用而做的。我们会免费补发新品，破损件无需寄回。 [1]"


def test_the_cited_answer_quotes_only_the_first_source() -> None:
    answer = cited_answer(chat_body("Is there free shipping?", GREETING, SHIPPING))
    assert answer == "Our team loves tea. We reply to every message with care. [1]"


def test_a_question_sharing_no_word_with_the_source_gets_its_opening_sentences() -> None:
    assert cited_answer(chat_body("Quoi?", GREETING)) == "Our team loves tea. We reply to every message with care. [1]"


def test_a_prompt_without_sources_gets_no_cited_answer() -> None:
    assert cited_answer(chat_body("What is the weather tomorrow?")) is None
    assert cited_answer({"messages": []}) is None
    assert cited_answer(chat_body("Anything?", "## Only a heading")) is None


def test_source_sentences_leave_headings_and_list_markers_out_and_keep_prices_whole() -> None:
    text = "## Fees\n\n1. Pay ¥99.00 at lumenleaf.example today. Then wait!\n- Done 。好的。"
    assert source_sentences(text) == ["Pay ¥99.00 at lumenleaf.example today.", "Then wait!", "Done 。", "好的。"]


@pytest.mark.parametrize(
    ("text", "taken", "changed"),
    [
        ("arrives in 3 days", set(), "arrives in 4 days"),
        ("report within 48 hours", set(), "report within 58 hours"),
        ("only ¥99.00 today", set(), "only ¥109.00 today"),
        ("2-4 天送达", {"3", "4"}, "5-4 天送达"),
        ("满 ¥199 包邮，不满收 ¥12", set(), "满 ¥299 包邮，不满收 ¥12"),
        ("no figure at all", set(), "no figure at all"),
    ],
)
def test_number_changed_raises_the_first_number_past_every_number_in_the_prompt(
    text: str, taken: set[str], changed: str
) -> None:
    assert number_changed(text, taken=taken) == changed


def test_the_changed_number_answer_differs_from_the_faithful_one_in_exactly_one_number() -> None:
    body = chat_body("What does next-day express cost?", SHIPPING)
    faithful, changed = cited_answer(body), cited_answer(body, change_number=True)
    assert faithful is not None and changed is not None
    different = [(a, b) for a, b in zip(numbers(faithful), numbers(changed), strict=True) if a != b]
    assert different == [("25", "35")]
    assert re.sub(r"\d", "", faithful) == re.sub(r"\d", "", changed)


def test_when_the_closest_sentences_have_no_number_the_first_sentence_with_one_is_misquoted() -> None:
    answer = cited_answer(chat_body("Is every order packed by hand in the studio?", SHIPPING), change_number=True)
    assert answer == "Every order is packed by hand in our studio. **Free standard shipping** on orders over ¥299. [1]"


def test_a_source_without_numbers_is_cited_unchanged() -> None:
    body = chat_body("Do you care?", GREETING)
    assert cited_answer(body, change_number=True) == cited_answer(body)


def demo_sections() -> list[str]:
    demo = json.loads((ROOT / "knowledge" / "demo" / "demo.json").read_text(encoding="utf-8"))
    return [part for article in demo["articles"] for part in re.split(r"^## .*$", article["body"], flags=re.M)]


def test_every_demo_section_with_a_number_gets_a_misquote_that_no_number_in_the_prompt_supports() -> None:
    """What the verification target counts on: in English and Chinese, the changed reply always has a figure
    the sources do not give."""
    sections = [section for section in demo_sections() if numbers(" ".join(source_sentences(section)))]
    assert len(sections) >= 20
    for section in sections:
        for question in ("How long, how much?", "要多久，多少钱？"):
            changed = cited_answer(chat_body(question, section), change_number=True)
            assert changed is not None and changed.endswith(" [1]")
            assert set(numbers(changed.removesuffix(" [1]"))) - set(numbers(section)), section


def post_chat(url: str, body: dict[str, Any]) -> str:
    request = urllib.request.Request(url + "/api/chat", data=json.dumps({**body, "stream": False}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["message"]["content"]


def test_a_scripted_reply_with_change_number_misquotes_its_source(fake_ollama: FakeOllama) -> None:
    body = chat_body("When do I have to report a broken cup?", WARRANTY_ZH)
    fake_ollama.script(Reply(change_number=True), Reply(cite_first_source=True))
    assert post_chat(fake_ollama.url, body) == cited_answer(body, change_number=True)
    assert post_chat(fake_ollama.url, body) == cited_answer(body)
    assert "58 小时" in (cited_answer(body, change_number=True) or "")


def test_the_standalone_servers_change_number_flag() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_ollama", "--port", str(port), "--ttft", "0", "--per-token", "0",
         "--change-number"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None and "fake Ollama on" in server.stdout.readline()
        body = chat_body("What does next-day express cost?", SHIPPING)
        assert post_chat(f"http://127.0.0.1:{port}", body) == cited_answer(body, change_number=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_that_records_no_requests_keeps_no_prompts(fake_ollama: FakeOllama) -> None:
    """The standalone server (`python -m tests.fake_ollama`, bench/soak.py's) keeps no log nobody can read: a long
    run would grow by every prompt."""
    fake_ollama.state.record_requests = False
    post_chat(fake_ollama.url, chat_body("What does next-day express cost?", SHIPPING))
    assert fake_ollama.state.requests == []


CHOICE_SCHEMA = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": ["order_lookup", "none"]},
                   "arguments": {"type": "object", "properties": {"order_number": {"type": "string"},
                                                                  "count": {"type": "integer"}}}},
    "required": ["action", "arguments"],
}


def test_schema_instance_is_the_first_value_each_part_of_the_schema_allows() -> None:
    assert schema_instance(CHOICE_SCHEMA) == {"action": "order_lookup",
                                              "arguments": {"order_number": "", "count": 0}}
    assert schema_instance({"anyOf": [{"const": "a"}, {"const": "b"}]}) == "a"
    assert schema_instance({"type": ["boolean", "null"]}) is False
    assert schema_instance({"type": "array", "items": {"type": "string"}}) == []


def test_structured_requests_get_the_scripted_object_or_the_schemas_first_instance(fake_ollama: FakeOllama) -> None:
    body = {"model": "deepseek-r1:7b", "format": CHOICE_SCHEMA, "messages": [{"role": "user", "content": "hi"}]}
    fake_ollama.script(Reply(structured={"action": "none", "arguments": {}}, thinking="hmm"),
                       Reply(fill_schema=True, cite_first_source=True),
                       Reply(content='{"intent": "question", "entities": []}'))
    assert json.loads(post_chat(fake_ollama.url, body)) == {"action": "none", "arguments": {}}
    assert json.loads(post_chat(fake_ollama.url, body)) == schema_instance(CHOICE_SCHEMA)
    # Neither set: the scripted content goes out as it is (the intent model's tests script their JSON so).
    assert json.loads(post_chat(fake_ollama.url, body)) == {"intent": "question", "entities": []}
    # A request without `format` is unchanged by them: prose, not JSON.
    fake_ollama.script(Reply(content="Plain words.", fill_schema=True, structured={"action": "none"}))
    assert post_chat(fake_ollama.url, {k: v for k, v in body.items() if k != "format"}) == "Plain words."


def test_the_gateways_structured_chat_reads_the_fakes_answer(fake_ollama: FakeOllama) -> None:
    from helpdesk.llm import ollama as gateway
    from helpdesk.runtime import aio

    fake_ollama.script(Reply(fill_schema=True))
    answer = aio.run(gateway.structured_chat([{"role": "user", "content": "where is my order?"}],
                                             model="deepseek-r1:7b", schema=CHOICE_SCHEMA, timeout_s=10))
    assert answer == {"action": "order_lookup", "arguments": {"order_number": "", "count": 0}}
    assert fake_ollama.chat_requests()[-1].body["format"] == CHOICE_SCHEMA


TOOL_MODEL = "qwen2.5:7b"
TOOLS = [
    {"type": "function", "function": {
        "name": "order_lookup", "description": "Look up the customer's orders.",
        "parameters": {"type": "object", "properties": {"order_number": {"type": "string"},
                                                        "carrier": {"type": "string", "enum": ["SF", "EMS"]},
                                                        "count": {"type": "integer"}},
                       "required": ["carrier"]}}},
    {"type": "function", "function": {"name": "order_cancel", "description": "Cancel an order.",
                                      "parameters": {"type": "object", "properties": {}}}},
]


def post_chat_raw(url: str, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The HTTP status and every NDJSON object of the answer (one when not streamed)."""
    request = urllib.request.Request(f"{url}/api/chat", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, [json.loads(line) for line in response.read().splitlines() if line.strip()]
    except urllib.error.HTTPError as exc:
        return exc.code, [json.loads(exc.read())]


def tools_body(text: str, *, model: str = TOOL_MODEL, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "stream": stream, "tools": TOOLS,
            "messages": [{"role": "system", "content": "Call a tool."}, {"role": "user", "content": text}]}


@pytest.mark.parametrize(("text", "arguments"), [
    ("Where is order SF1400238855 sent by ems, 3 boxes?", {"order_number": "SF1400238855", "carrier": "EMS",
                                                             "count": 3}),
    ("我的订单10187到哪了？", {"order_number": "10187", "carrier": "SF", "count": 10187}),
    ("Where is my parcel?", {"carrier": "SF"}),  # nothing given: only the required one, its first value
])
def test_call_tools_calls_the_first_tool_with_arguments_from_the_users_message(
    text: str, arguments: dict[str, Any], fake_ollama: FakeOllama,
) -> None:
    fake_ollama.state.models.append(TOOL_MODEL)
    fake_ollama.state.default_reply = Reply(content="Words instead.", call_tools=True)
    status, (answer,) = post_chat_raw(fake_ollama.url, tools_body(text))
    assert status == 200 and answer["done"] is True
    # As Ollama writes them: the calls in the message, the content empty.
    assert answer["message"] == {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"index": 0, "name": "order_lookup", "arguments": arguments}}]}
    # Without `tools` the same reply answers in words.
    plain = {key: value for key, value in tools_body(text).items() if key != "tools"}
    assert post_chat_raw(fake_ollama.url, plain)[1][0]["message"]["content"] == "Words instead."


def test_scripted_tool_calls_go_out_as_scripted_streamed_or_not(fake_ollama: FakeOllama) -> None:
    fake_ollama.state.models.append(TOOL_MODEL)
    calls = ({"name": "order_cancel", "arguments": {}}, {"name": "not_offered", "arguments": {"x": 1}})
    fake_ollama.script(Reply(tool_calls=calls, call_tools=True), Reply(tool_calls=calls), Reply(content="No call."))
    _, (answer,) = post_chat_raw(fake_ollama.url, tools_body("Cancel 10234"))
    assert [c["function"]["name"] for c in answer["message"]["tool_calls"]] == ["order_cancel", "not_offered"]
    assert answer["message"]["tool_calls"][1]["function"] == {"index": 1, "name": "not_offered", "arguments": {"x": 1}}
    status, chunks = post_chat_raw(fake_ollama.url, tools_body("Cancel 10234", stream=True))
    assert status == 200 and chunks[-1]["done"] is True
    assert [c["message"]["tool_calls"] for c in chunks if c["message"].get("tool_calls")] == [
        answer["message"]["tool_calls"]]
    # No calls scripted nor auto: a model answering in words.
    _, (answer,) = post_chat_raw(fake_ollama.url, tools_body("Cancel 10234"))
    assert answer["message"] == {"role": "assistant", "content": "No call."}
    assert fake_ollama.chat_requests()[0].body["tools"] == TOOLS  # what was offered is on record


def test_a_model_without_tool_calling_refuses_tools_with_400_as_ollama_does(fake_ollama: FakeOllama) -> None:
    fake_ollama.state.default_reply = Reply(call_tools=True, content="Hello.")
    assert post_chat_raw(fake_ollama.url, tools_body("Where is 10234?", model="deepseek-r1:7b")) == (
        400, [{"error": "registry.ollama.ai/library/deepseek-r1:7b does not support tools"}])
    # The same model without `tools` answers; a model made tool-capable calls.
    plain = {key: value for key, value in tools_body("hi", model="deepseek-r1:7b").items() if key != "tools"}
    assert post_chat_raw(fake_ollama.url, plain)[0] == 200
    fake_ollama.state.models_without_tools.clear()
    assert post_chat_raw(fake_ollama.url, tools_body("10234", model="deepseek-r1:7b"))[1][0]["message"]["tool_calls"]


def test_the_gateways_tool_chat_reads_the_fakes_calls_and_names_the_refusal(fake_ollama: FakeOllama) -> None:
    from helpdesk.llm import ollama as gateway
    from helpdesk.runtime import aio

    fake_ollama.state.models.append(TOOL_MODEL)
    fake_ollama.state.default_reply = Reply(call_tools=True)
    messages = [{"role": "user", "content": "我的订单10187到哪了？"}]
    calls = aio.run(gateway.tool_chat(messages, model=TOOL_MODEL, tools=TOOLS, timeout_s=10))
    assert calls == [gateway.ToolCall(name="order_lookup",
                                      arguments={"order_number": "10187", "carrier": "SF", "count": 10187})]
    sent = fake_ollama.chat_requests()[-1].body
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["order_lookup", "order_cancel"]
    assert sent["stream"] is False and "format" not in sent
    with pytest.raises(gateway.ToolsNotSupported, match="does not support tools"):
        aio.run(gateway.tool_chat(messages, model="deepseek-r1:7b", tools=TOOLS, timeout_s=10))
    with pytest.raises(gateway.OllamaRequestError, match="cannot be sent"):
        aio.run(gateway.tool_chat(messages, model=TOOL_MODEL, timeout_s=10, tools=[
            {"type": "function", "function": {"name": "x", "parameters": {"type": "array"}}}]))


def test_the_standalone_servers_call_tools_flag() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_ollama", "--port", str(port), "--ttft", "0", "--per-token", "0",
         "--call-tools", "--tool-models", TOOL_MODEL], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None and "fake Ollama on" in server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        (call,) = post_chat_raw(url, tools_body("Where is order 10234?"))[1][0]["message"]["tool_calls"]
        assert call["function"]["arguments"]["order_number"] == "10234"
        assert post_chat_raw(url, tools_body("10234", model="deepseek-r1:7b"))[0] == 400
    finally:
        server.terminate()
        server.wait(timeout=10)
