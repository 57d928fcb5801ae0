"""An agent approves or declines, in the console, an action the bot proposed (issue 19: "sent to an agent for
approval"): agents.services over conversations.actions.approval, and the console socket's frames.

The action is the demo shop's order look-up on the test's live server (its real order API), set to change
something and to need an agent's approval; the model that proposes it is the suite's fake Ollama filling the
structured-output schema, as `make fake-ollama` does.
"""

from __future__ import annotations

from typing import Any

import pytest

from agents import services
from agents.models import AuditEvent
from agents.tests.console import agent_create, open_console
from conversations.actions.approval import ApprovalRefused, action_proposal_approve, key_facts
from conversations.actions.demo import demo_action_ensure
from conversations.intents import classify
from conversations.models import Action, ActionCall, Conversation, Customer, Message
from conversations.pipeline.reply import reply_generate
from conversations.protocol.codes import HandoffReason
from conversations.selectors.customers import customer_hash
from conversations.services.handoff import NotYourConversation
from helpdesk.runtime import aio
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_CUSTOMER = "demo-customer-1"
QUESTIONS = {"en": "Where is my order 10234?", "zh": "我的订单10234到哪了？"}


@pytest.fixture
def approval_action(live_server: Any, settings: Any) -> Action:
    """The demo's order look-up, as an action that changes something and waits for an agent."""
    settings.DEMO_CUSTOMER_ID = DEMO_CUSTOMER
    action = demo_action_ensure(base_url=live_server.url)
    action.read_only, action.confirmation = False, Action.Confirmation.AGENT
    action.save()
    return action


def proposed(fake_ollama: Any, *, language: str = "en") -> ActionCall:
    """A signed-in customer asks; the bot proposes the action and hands the conversation to the agents."""
    fake_ollama.state.default_reply = Reply(fill_schema=True)
    customer = Customer.objects.create(external_id=DEMO_CUSTOMER,
                                       external_id_hash=customer_hash("external_id", DEMO_CUSTOMER))
    conversation = Conversation.objects.create(customer=customer)
    text = QUESTIONS[language]
    question = Message.objects.create(conversation=conversation, role=Message.Role.CUSTOMER, content=text,
                                      client_id="c-1", intent=classify(text).intent)
    reply_generate(customer_message_id=question.pk)
    conversation.refresh_from_db()
    assert conversation.handoff_reason == HandoffReason.ACTION_APPROVAL
    call = ActionCall.objects.get(conversation=conversation)
    assert call.status == ActionCall.Status.PROPOSED
    return call


def taken_over(call: ActionCall, username: str = "ann") -> Any:
    agent = agent_create(username, first_name=username.title())
    services.conversation_take_over(agent=agent, conversation_id=call.conversation_id)
    return agent


def agent_messages(call: ActionCall) -> list[Message]:
    return list(Message.objects.filter(conversation_id=call.conversation_id, role=Message.Role.AGENT).order_by("id"))


def audit_actions(call: ActionCall) -> list[str]:
    return list(AuditEvent.objects.filter(conversation_id=call.conversation_id).exclude(action="take_over")
                .order_by("id").values_list("action", flat=True))


@pytest.mark.parametrize(("language", "done"), [("en", "Done: your request (order_lookup)"),
                                                ("zh", "已完成：您的请求（order_lookup）")])
def test_approving_runs_the_call_once_and_the_agent_tells_the_customer_its_key_facts(
    approval_action: Action, fake_ollama: Any, language: str, done: str,
) -> None:
    call = proposed(fake_ollama, language=language)
    ann = taken_over(call)

    approved = services.action_approve(agent=ann, conversation_id=call.conversation_id, call_id=call.pk)

    assert (approved.status, approved.response_status, approved.error) == (ActionCall.Status.OK, 200, "")
    assert "SF1400238855" in ActionCall.objects.get(pk=call.pk).result
    (told,) = agent_messages(call)
    assert told.author_id == ann.pk and told.content.startswith(done)
    assert "SF1400238855" in told.content and "10234" in told.content  # the shop's answer, in its words
    event = AuditEvent.objects.get(action="action_approve")
    assert (event.actor_id, event.conversation_id) == (ann.pk, call.conversation_id)
    assert event.details == {"call_id": call.pk, "action_name": "order_lookup", "status": "ok"}


def test_a_second_approval_is_refused_as_already_approved_and_logged(
    approval_action: Action, fake_ollama: Any,
) -> None:
    call = proposed(fake_ollama)
    ann = taken_over(call)
    services.action_approve(agent=ann, conversation_id=call.conversation_id, call_id=call.pk)

    with pytest.raises(ApprovalRefused, match="already approved") as refused:
        services.action_approve(agent=ann, conversation_id=call.conversation_id, call_id=call.pk)

    assert refused.value.status == ActionCall.Status.OK and refused.value.call_id == call.pk
    assert len(agent_messages(call)) == 1  # the customer is told once
    assert audit_actions(call) == ["action_approve", "action_approve_refused"]
    assert "already approved" in AuditEvent.objects.get(action="action_approve_refused").details["reason"]


@pytest.mark.parametrize(("language", "told"), [
    ("en", "We have checked your request (order_lookup) and not carried it out: everything stays as it was."),
    ("zh", "我们核实了您的请求（order_lookup），没有执行：一切保持原样。"),
])
def test_declining_never_runs_the_call_and_tells_the_customer(
    approval_action: Action, fake_ollama: Any, language: str, told: str,
) -> None:
    call = proposed(fake_ollama, language=language)
    ann = taken_over(call)

    services.action_decline(agent=ann, conversation_id=call.conversation_id, call_id=call.pk)

    call.refresh_from_db()
    assert (call.status, call.response_status, call.result) == (ActionCall.Status.DECLINED, None, "")
    assert [message.content for message in agent_messages(call)] == [told]
    with pytest.raises(ApprovalRefused, match="already declined"):
        services.action_approve(agent=ann, conversation_id=call.conversation_id, call_id=call.pk)
    assert ActionCall.objects.get(pk=call.pk).response_status is None  # still never run
    assert audit_actions(call) == ["action_decline", "action_approve_refused"]


@pytest.mark.parametrize("decide", [services.action_approve, services.action_decline])
def test_only_the_agent_who_has_the_conversation_may_decide(
    approval_action: Action, fake_ollama: Any, decide: Any,
) -> None:
    call = proposed(fake_ollama)
    bo = agent_create("bo")
    with pytest.raises(NotYourConversation):  # waiting for a person: take it over first, as to reply
        decide(agent=bo, conversation_id=call.conversation_id, call_id=call.pk)
    taken_over(call, "ann")
    with pytest.raises(NotYourConversation):  # a colleague's
        decide(agent=bo, conversation_id=call.conversation_id, call_id=call.pk)

    assert ActionCall.objects.get(pk=call.pk).status == ActionCall.Status.PROPOSED
    assert agent_messages(call) == []
    refusal = f"{decide.__name__}_refused"
    assert audit_actions(call) == [refusal, refusal]


def test_a_call_of_another_conversation_is_refused(approval_action: Action, fake_ollama: Any) -> None:
    call = proposed(fake_ollama)
    ann = taken_over(call)
    other = Conversation.objects.create(status=Conversation.Status.HUMAN, agent=ann)
    with pytest.raises(ApprovalRefused, match="no proposal"):
        services.action_approve(agent=ann, conversation_id=other.pk, call_id=call.pk)
    assert ActionCall.objects.get(pk=call.pk).status == ActionCall.Status.PROPOSED


def test_a_failed_call_tells_the_customer_without_the_systems_error(
    approval_action: Action, fake_ollama: Any,
) -> None:
    call = proposed(fake_ollama)
    Action.objects.filter(pk=approval_action.pk).update(headers="X-Demo-Key: wrong")  # the shop answers 401
    ann = taken_over(call)

    failed = services.action_approve(agent=ann, conversation_id=call.conversation_id, call_id=call.pk)

    assert (failed.status, failed.response_status, failed.error) == (ActionCall.Status.FAILED, 401, "answered 401")
    (told,) = agent_messages(call)
    assert told.content.startswith("Sorry, your request (order_lookup) could not be carried out")
    assert "401" not in told.content
    assert AuditEvent.objects.get(action="action_approve").details["status"] == "failed"


def test_approval_in_admin_tells_the_customer_by_a_notice(approval_action: Action, fake_ollama: Any) -> None:
    call = proposed(fake_ollama, language="zh")
    action_proposal_approve(call_id=call.pk)
    notice = Message.objects.filter(conversation_id=call.conversation_id).order_by("-id").first()
    assert notice.role == Message.Role.SYSTEM and notice.content.startswith("已完成")
    assert "SF1400238855" in notice.content


@pytest.mark.parametrize(("data", "facts"), [
    ({"cancelled": "10234", "refund": "¥336", "lines": [1, 2], "meta": {"a": 1}}, "cancelled: 10234\nrefund: ¥336"),
    ({"退款": "¥128", "ok": True, "note": " "}, "退款: ¥128\nok: True"),
    (["10234"], ""),
])
def test_key_facts_of_an_answer_without_a_template_are_its_plain_top_level_values(data: Any, facts: str) -> None:
    action = Action(name="order_cancel", result_format=Action.ResultFormat.JSON)
    assert key_facts(action, data) == facts


# --- the console socket --------------------------------------------------------------------------------------


async def test_the_console_approves_and_every_open_console_and_the_customer_see_the_outcome(
    approval_action: Action, fake_ollama: Any, chat: Any,
) -> None:
    call = await aio.db_call(proposed, fake_ollama)
    conversation = await aio.db_call(Conversation.objects.get, pk=call.conversation_id)
    ann = await aio.db_call(lambda: agent_create("ann", first_name="Ann"))
    console, _ = await open_console(ann)
    await console.send({"type": "open", "conversation_id": conversation.pk})
    opened = await console.until("conversation")
    (shown,) = next(m for m in opened["messages"] if m["role"] == "bot")["actions"]
    assert (shown["id"], shown["status"], shown["confirmation"]) == (call.pk, "proposed", "agent")
    customer, _ = await chat(conversation.token)

    await console.send({"type": "take_over", "conversation_id": conversation.pk})
    await console.until("status", status="human")
    await console.send({"type": "action_approve", "conversation_id": conversation.pk, "call_id": call.pk})

    told = await customer.until("message", timeout=20)
    while told["message"]["role"] != "agent":
        told = await customer.until("message", timeout=20)
    assert told["message"]["content"].startswith("Done: your request (order_lookup)")
    reviewed = await console.until("message", timeout=20)
    while reviewed["message"]["role"] != "bot":
        reviewed = await console.until("message", timeout=20)
    assert reviewed["message"]["actions"][0]["status"] == "ok"

    await console.send({"type": "action_approve", "conversation_id": conversation.pk, "call_id": call.pk})
    refused = await console.until("error")
    assert (refused["code"], refused["call_id"], refused["status"]) == ("not_proposed", call.pk, "ok")
    await console.send({"type": "action_decline", "conversation_id": conversation.pk, "call_id": "one"})
    assert (await console.until("error"))["code"] == "bad_frame"
    await customer.close()
    await console.close()
