"""Actions chosen through Ollama's tool calling (a model profile's action choice "tools"): the candidate actions
go to the model as tools and its first call is the choice; a model that refuses tools is asked with structured
output instead. The demo shop's real order API is served by the live server; Ollama is the suite's fake over
HTTP, whose tool-calling answers drive the model's call.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from conversations.actions import choice as action_choice
from conversations.actions.demo import DEMO_ACTION_NAME, DEMO_SOURCE_TITLE, demo_action_ensure
from conversations.intents import Intent, classify
from conversations.models import Action, ActionCall, Conversation, Customer, Message
from conversations.pipeline.reply import reply_generate
from conversations.selectors.customers import customer_hash
from helpdesk.models import ModelProfile
from helpdesk.tests.factories import default_profile
from tests.fake_ollama import Reply

from .factories import conversation_factory, customer_message_factory

TOOL_MODEL = "qwen2.5:7b"
TOOLS = ModelProfile.ActionChoice.TOOLS


@pytest.fixture
def demo_shop(live_server: Any, settings: Any) -> Action:
    settings.DEMO_CUSTOMER_ID = "demo-customer-1"
    return demo_action_ensure(base_url=live_server.url)


@pytest.fixture
def tool_model(fake_ollama: Any) -> Any:
    """The fake serving a tool-capable model besides DeepSeek-R1 (which refuses tools, as on Ollama)."""
    fake_ollama.state.models.append(TOOL_MODEL)
    return fake_ollama


def asked(text: str) -> Message:
    customer, _ = Customer.objects.get_or_create(external_id_hash=customer_hash("external_id", "demo-customer-1"),
                                                 defaults={"external_id": "demo-customer-1"})
    message = customer_message_factory(conversation_factory(customer=customer), text, intent=classify(text).intent)
    assert message.intent == Intent.ORDER_STATUS
    return message


def chat_bodies(fake_ollama: Any) -> list[dict]:
    return [request.body for request in fake_ollama.chat_requests()]


ORDERS = [("Where is my order 10187?", "10187", "10234", "Order #10187"),
          ("Has order #10234 shipped yet?", "10234", "10187", "Order #10234"),
          ("我的订单10187到哪了？", "10187", "10234", "订单 #10187"),
          ("帮我查一下订单 10234 的物流", "10234", "10187", "订单 #10234")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("question", "number", "other", "quoted"), ORDERS)
def test_a_tools_profile_answers_an_order_question_through_the_models_tool_call(
    question: str, number: str, other: str, quoted: str, demo_shop: Action, tool_model: Any,
) -> None:
    default_profile(model=TOOL_MODEL, action_choice=TOOLS)
    # A tool-capable model: it calls the first tool with the order number the customer wrote.
    tool_model.state.default_reply = Reply(call_tools=True, cite_first_source=True)
    message = asked(question)

    reply = reply_generate(customer_message_id=message.pk)

    assert reply.status == Message.Status.COMPLETE and reply.answer_source == Message.AnswerSource.LLM
    call = ActionCall.objects.get()
    assert (call.status, call.action_name, call.arguments) == (ActionCall.Status.OK, DEMO_ACTION_NAME,
                                                               {"order_number": number})
    # The shop answered for that order only, and the reply quotes it in the customer's language.
    assert quoted in reply.content and other not in reply.content
    first = reply.sources[0]
    assert first["title"] == DEMO_SOURCE_TITLE and first["cited"] and first["action_call_id"] == call.pk
    # The choice went out as tools, the action's own schema as the parameters; no structured output asked.
    choice, *_ = chat_bodies(tool_model)
    assert choice["model"] == TOOL_MODEL and choice["stream"] is False and "format" not in choice
    (tool,) = choice["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == DEMO_ACTION_NAME
    assert tool["function"]["description"] == demo_shop.description.strip()
    assert tool["function"]["parameters"]["properties"]["order_number"]["type"] == "string"
    assert not any("format" in body for body in chat_bodies(tool_model))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("call", "error"), [
    ({"name": "order_delete", "arguments": {"order_number": "10234"}}, "unknown tool 'order_delete'"),
    ({"name": DEMO_ACTION_NAME, "arguments": {"order_number": 10234}}, "order_number is not a string"),
    ({"name": DEMO_ACTION_NAME, "arguments": {"order_number": "1" * 40}}, "order_number is too long"),
    (None, ""),  # no call: the model answered in words
])
@pytest.mark.parametrize("question", ["Where is my order 10234?", "我的订单10234到哪了？"])
def test_a_bad_tool_call_or_none_means_no_call_and_the_reply_goes_on(
    question: str, call: dict | None, error: str, demo_shop: Action, tool_model: Any,
) -> None:
    default_profile(model=TOOL_MODEL, action_choice=TOOLS)
    tool_model.script(Reply(tool_calls=(call,) if call else None, content="Let me check that for you."),
                      Reply(content="Please tell us more about your order."))
    reply = reply_generate(customer_message_id=asked(question).pk)
    assert not ActionCall.objects.exists()
    assert chat_bodies(tool_model)[0]["tools"]
    if error:
        assert error in reply.retrieval["action_choice"]
    else:
        assert reply.retrieval["action_choice"] == "none"
    assert reply.status == Message.Status.COMPLETE and reply.answer_source == Message.AnswerSource.LLM
    assert reply.content == "Please tell us more about your order."


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("questions", [["Where is my order?", "Has my parcel shipped yet?"],
                                       ["我的订单到哪了？", "我的快递什么时候到"]])
def test_a_model_refusing_tools_is_asked_with_structured_output_and_the_refusal_logged_once(
    questions: list[str], demo_shop: Action, fake_ollama: Any, monkeypatch: Any, caplog: Any,
) -> None:
    monkeypatch.setattr(action_choice, "_tools_refused", set())  # a fresh process: nothing logged yet
    default_profile(model="deepseek-r1:7b", action_choice=TOOLS)  # DeepSeek-R1 has no tool calling
    fake_ollama.state.default_reply = Reply(fill_schema=True, cite_first_source=True)
    caplog.set_level(logging.INFO, logger=action_choice.__name__)

    for question in questions:
        fake_ollama.state.requests.clear()
        reply = reply_generate(customer_message_id=asked(question).pk)
        # Refused with 400, then asked again with `format` on the same request; the customer sees no error.
        tools_ask, format_ask, *_ = chat_bodies(fake_ollama)
        assert tools_ask["tools"] and "format" not in tools_ask
        assert format_ask["format"]["properties"]["action"]["enum"] == [DEMO_ACTION_NAME, "none"]
        assert not format_ask.get("tools")  # the official client sends an empty list: no tools offered
        assert reply.status == Message.Status.COMPLETE and reply.answer_source == Message.AnswerSource.LLM
        assert "10234" in reply.content and reply.sources[0]["cited"]
        assert ActionCall.objects.get(message=reply).status == ActionCall.Status.OK
        assert Conversation.objects.get(pk=reply.conversation_id).status == Conversation.Status.BOT
    refusals = [r for r in caplog.records if "does not support tools" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.WARNING


@pytest.mark.django_db(transaction=True)
def test_a_format_profile_never_offers_tools(demo_shop: Action, tool_model: Any) -> None:
    default_profile(model=TOOL_MODEL)  # the default action choice
    tool_model.state.default_reply = Reply(fill_schema=True, call_tools=True, cite_first_source=True)
    reply = reply_generate(customer_message_id=asked("Where is my order?").pk)
    assert "10234" in reply.content
    assert not any(body.get("tools") for body in chat_bodies(tool_model))
    assert ModelProfile.objects.get(is_default=True).action_choice == ModelProfile.ActionChoice.FORMAT
