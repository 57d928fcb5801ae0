"""Actions (conversations.actions): the bot looks a signed-in customer's orders up in the shop's own system.

The demo shop's real order API is served by the test's live server; the misbehaving endpoints (slow, failing,
huge, not JSON, redirecting) by a real HTTP server of this module. Ollama is the suite's fake over HTTP: its
structured-output answers (`format` = a JSON schema) drive which action the model chooses.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection

from conversations import notices
from conversations.actions.approval import ApprovalRefused, action_proposal_approve
from conversations.actions.calls import action_call_http
from conversations.actions.demo import DEMO_ACTION_NAME, DEMO_SOURCE_TITLE, demo_action_ensure
from conversations.intents import Intent, classify
from conversations.models import Action, ActionCall, Conversation, Customer, Message
from conversations.pipeline.reply import reply_generate
from conversations.prompting import profile_cache_key
from conversations.protocol.codes import HandoffReason
from conversations.selectors.customers import customer_hash
from conversations.selectors.messages import message_to_agent_dict
from conversations.views import DEMO_KEY_HEADER
from helpdesk.llm import profiles
from knowledge import cache as answer_cache
from tests.fake_ollama import Reply
from tests.support.faults import wait_for

from .factories import conversation_factory, customer_message_factory

ORDERS = {"customer": "x", "orders": [{"number": "55501", "status": "shipped"}]}


class _Handler(BaseHTTPRequestHandler):
    """A company system that misbehaves in every way the issue names, by path."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.hits[self.path.split("?")[0]] += 1  # type: ignore[attr-defined]
        self.server.seen.append((self.path, dict(self.headers)))  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        if path == "/orders":
            self._answer(200, json.dumps(ORDERS).encode())
        elif path == "/slow":
            time.sleep(3)
            self._answer(200, json.dumps(ORDERS).encode())
        elif path == "/error":
            self._answer(500, b'{"error": "database down"}')
        elif path == "/huge":  # 10 MB of valid JSON
            self._answer(200, b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}')
        elif path == "/text":
            self._answer(200, b"<html>Sign in</html>", content_type="text/html")
        elif path == "/redirect":
            self._answer(302, b"", Location=f"http://127.0.0.1:{self.server.server_port}/internal")
        else:  # /internal: where a followed redirect would land
            self._answer(200, json.dumps({"secret": "internal"}).encode())

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.hits[self.path.split("?")[0]] += 1  # type: ignore[attr-defined]
        self.server.posted.append(body)  # type: ignore[attr-defined]
        self._answer(200, json.dumps({"cancelled": body.get("order_number"), "refund": "¥336"}).encode())


@pytest.fixture(scope="module")
def company_system() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.hits, server.seen, server.posted = Counter(), [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def company(company_system: ThreadingHTTPServer) -> ThreadingHTTPServer:
    company_system.hits.clear()  # type: ignore[attr-defined]
    company_system.seen.clear()  # type: ignore[attr-defined]
    company_system.posted.clear()  # type: ignore[attr-defined]
    return company_system


def company_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def verified_conversation(user_id: str) -> Conversation:
    customer = Customer.objects.create(external_id=user_id, external_id_hash=customer_hash("external_id", user_id))
    return conversation_factory(customer=customer)


def asked(conversation: Conversation, text: str) -> Message:
    """A customer message stored with its intent by the rules, as posting it stores it."""
    return customer_message_factory(conversation, text, intent=classify(text).intent)


def action_for(server: ThreadingHTTPServer, path: str, **fields: Any) -> Action:
    return Action.objects.create(**{
        "name": "order_lookup", "description": "Look up the customer's orders.", "base_url": company_url(server),
        "path_template": path, "timeout_s": 1.0, "headers": "Authorization: Bearer s3cret", **fields,
    })


def choice_requests(fake_ollama: Any) -> list[dict]:
    return [request.body for request in fake_ollama.chat_requests() if isinstance(request.body.get("format"), dict)]


@pytest.fixture
def demo_shop(live_server: Any, settings: Any) -> Action:
    """The demo shop's order action, pointing at the demo page's own order API on the live server."""
    settings.DEMO_CUSTOMER_ID = "demo-customer-1"
    return demo_action_ensure(base_url=live_server.url)


ENGLISH = ["Where is my order?", "Has my parcel shipped yet?", "When will my package arrive?"]
CHINESE = ["我的订单到哪了？", "我的快递什么时候到", "帮我查一下物流"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("question", ENGLISH + CHINESE)
def test_a_signed_in_customer_asking_about_their_order_gets_an_answer_citing_the_shops_system(
    question: str, demo_shop: Action, fake_ollama: Any,
) -> None:
    # As `make fake-ollama` runs: structured requests get the schema's first choice, answers cite source [1].
    fake_ollama.state.default_reply = Reply(fill_schema=True, cite_first_source=True)
    conversation = verified_conversation("demo-customer-1")
    message = asked(conversation, question)
    assert message.intent == Intent.ORDER_STATUS

    reply = reply_generate(customer_message_id=message.pk)

    assert reply.status == Message.Status.COMPLETE and reply.answer_source == Message.AnswerSource.LLM
    assert "10234" in reply.content  # the order, quoted from the shop's answer
    # Quoted from the shop's answer in the customer's language (the demo's template writes both).
    assert ("订单 #10234" if question in CHINESE else "Order #10234") in reply.content
    first = reply.sources[0]
    assert first["n"] == 1 and first["title"] == DEMO_SOURCE_TITLE and first["cited"]
    call = ActionCall.objects.get(pk=first["action_call_id"])
    assert (call.status, call.response_status, call.message_id) == (ActionCall.Status.OK, 200, reply.pk)
    assert call.duration_ms > 0 and "SF1400238855" in call.result
    assert reply.unverified_facts == []  # every number is in the source it cites
    # The model chose through structured outputs, from the actions the intent calls for.
    (choice,) = choice_requests(fake_ollama)
    assert choice["format"]["properties"]["action"]["enum"] == [DEMO_ACTION_NAME, "none"]
    assert "customer_id" not in choice["format"]["properties"]["arguments"]["properties"]
    # Never cached: the next customer asking the same gets their own look-up.
    assert reply.retrieval["cache_refused"] == "used an action's result"
    assert conversation.status == Conversation.Status.BOT
    assert Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.BOT
    # The agents see the call beside the reply.
    (shown,) = message_to_agent_dict(reply)["actions"]
    assert shown["action"] == DEMO_ACTION_NAME and shown["status"] == "ok" and shown["response_status"] == 200


@pytest.mark.django_db(transaction=True)
def test_the_reply_that_used_an_action_never_enters_the_answer_cache(
    company: ThreadingHTTPServer, fake_ollama: Any,
) -> None:
    # An action that needs no identity, for an anonymous customer: nothing else marks the reply personal.
    action_for(company, "/orders?customer={customer_id}", requires_verified_identity=False)
    fake_ollama.state.default_reply = Reply(fill_schema=True, cite_first_source=True)
    message = asked(conversation_factory(), "Where is my order?")
    reply = reply_generate(customer_message_id=message.pk)
    assert "55501" in reply.content and reply.sources[0]["cited"]
    assert reply.retrieval["cache_refused"] == "used an action's result"
    profile = profile_cache_key(reply.profile or profiles.profile_default(), question="Where is my order?")
    assert answer_cache.answer_cache_get(question="Where is my order?", version=reply.retrieval["kb_version"],
                                         profile=profile) is None


@pytest.mark.django_db(transaction=True)
def test_the_call_carries_the_verified_customer_never_an_id_the_model_or_customer_gives(
    company: ThreadingHTTPServer, fake_ollama: Any,
) -> None:
    action_for(company, "/orders?customer={customer_id}&order={order_number}", parameters={
        "type": "object", "properties": {"order_number": {"type": "string"}}, "required": []})
    fake_ollama.script(Reply(structured={"action": "order_lookup",
                                         "arguments": {"order_number": "55501/../../admin?x=1",
                                                       "customer_id": "someone-else"}}),
                       Reply(cite_first_source=True))
    message = asked(verified_conversation("alice-7"), "Where is my order? My customer id is someone-else.")
    reply = reply_generate(customer_message_id=message.pk)
    ((path, headers),) = company.seen  # type: ignore[attr-defined]
    # The verified id; the model's value URL-encoded into its one query parameter, never a path or a host.
    assert path == "/orders?customer=alice-7&order=55501%2F..%2F..%2Fadmin%3Fx%3D1"
    assert headers["Authorization"] == "Bearer s3cret"
    call = ActionCall.objects.get()
    assert call.arguments == {"order_number": "55501/../../admin?x=1"}  # the undeclared customer_id dropped
    assert "55501" in reply.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("unverified", ["sign_in", "handoff"])
def test_an_unverified_customer_gets_no_look_up(
    unverified: str, company: ThreadingHTTPServer, fake_ollama: Any, settings: Any,
) -> None:
    settings.ACTION_UNVERIFIED = unverified
    action_for(company, "/orders?customer={customer_id}")
    fake_ollama.state.default_reply = Reply(structured={"action": "order_lookup", "arguments": {}})
    conversation = conversation_factory()  # anonymous: no identity signed by the site
    message = asked(conversation, "Where is my order? I am customer alice-7")
    reply = reply_generate(customer_message_id=message.pk)
    assert sum(company.hits.values()) == 0  # type: ignore[attr-defined]
    assert choice_requests(fake_ollama) == [] and fake_ollama.chat_requests() == []
    assert reply.content == notices.ACTION_SIGN_IN_NOTICE
    assert reply.answer_source == Message.AnswerSource.ACTION
    conversation.refresh_from_db()
    if unverified == "handoff":
        assert (conversation.status, conversation.handoff_reason) == (
            Conversation.Status.WAITING_HUMAN, HandoffReason.ACTION_FAILED)
    else:
        assert conversation.status == Conversation.Status.BOT


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("path", "error"), [
    ("/slow", "no answer within 1 s"),
    ("/error", "answered 500"),
    ("/huge", "answer larger than 1000000 bytes"),
    ("/text", "not JSON"),
    ("/redirect", "a redirect to"),
])
def test_a_failing_endpoint_hands_off_with_the_reason_stored(
    path: str, error: str, company: ThreadingHTTPServer, fake_ollama: Any,
) -> None:
    action_for(company, path + "?customer={customer_id}")
    fake_ollama.state.default_reply = Reply(structured={"action": "order_lookup", "arguments": {}})
    conversation = verified_conversation("alice-7")
    message = asked(conversation, "Where is my order?")
    started = time.monotonic()
    reply = reply_generate(customer_message_id=message.pk)
    assert time.monotonic() - started < 2.5  # the slow endpoint is cut at its timeout
    call = ActionCall.objects.get()
    assert call.status == ActionCall.Status.FAILED and error in call.error
    assert call.message_id == reply.pk and call.duration_ms is not None
    assert company.hits["/internal"] == 0  # type: ignore[attr-defined]  # no redirect followed
    assert reply.content == notices.ACTION_FAILED_NOTICE
    assert reply.retrieval["action_error"].startswith("order_lookup: ")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.handoff_reason) == (
        Conversation.Status.WAITING_HUMAN, HandoffReason.ACTION_FAILED)
    assert len(fake_ollama.chat_requests()) == 1  # the choice only: nothing generated from a failed call
    shown = message_to_agent_dict(reply)["actions"][0]
    assert shown["status"] == "failed" and error in shown["error"]


@pytest.mark.django_db(transaction=True)
def test_the_response_bound_is_a_setting(company: ThreadingHTTPServer, settings: Any) -> None:
    action = action_for(company, "/orders?customer={customer_id}")
    assert action_call_http(action, {}, customer_id="a").ok
    settings.ACTION_MAX_RESPONSE_BYTES = 20
    result = action_call_http(action, {}, customer_id="a")
    assert not result.ok and result.error == "answer larger than 20 bytes (ACTION_MAX_RESPONSE_BYTES)"


@pytest.mark.django_db(transaction=True)
def test_a_changing_action_is_proposed_and_runs_only_when_the_customer_confirms(
    company: ThreadingHTTPServer, fake_ollama: Any,
) -> None:
    action_for(company, "/cancel?customer={customer_id}", name="order_cancel", method=Action.Method.POST,
               read_only=False, intents=["question", "order_status"], parameters={
                   "type": "object", "properties": {"order_number": {"type": "string"}}, "required": ["order_number"]})
    fake_ollama.script(Reply(structured={"action": "order_cancel", "arguments": {"order_number": "10234"}}))
    conversation = verified_conversation("alice-7")
    proposal = reply_generate(customer_message_id=asked(conversation, "Please cancel order 10234").pk)
    assert company.hits["/cancel"] == 0  # type: ignore[attr-defined]  # proposed, not run
    assert "order_cancel" in proposal.content and '"yes"' in proposal.content and "10234" in proposal.content
    call = ActionCall.objects.get()
    assert call.status == ActionCall.Status.PROPOSED and call.message_id == proposal.pk

    fake_ollama.script(Reply(cite_first_source=True))
    done = reply_generate(customer_message_id=asked(conversation, "yes").pk)
    assert company.posted == [{"order_number": "10234", "customer_id": "alice-7"}]  # type: ignore[attr-defined]
    call.refresh_from_db()
    assert (call.status, call.response_status, call.message_id) == (ActionCall.Status.OK, 200, done.pk)
    assert done.sources[0]["action_call_id"] == call.pk and "10234" in done.content
    assert len(choice_requests(fake_ollama)) == 1  # the "yes" ran the proposal: no second choice


@pytest.mark.django_db(transaction=True)
def test_a_proposal_the_customer_refuses_never_runs(company: ThreadingHTTPServer, fake_ollama: Any) -> None:
    action_for(company, "/cancel?customer={customer_id}", name="order_cancel", method=Action.Method.POST,
               read_only=False, intents=["question"])
    fake_ollama.script(Reply(structured={"action": "order_cancel", "arguments": {}}))
    conversation = verified_conversation("alice-7")
    reply_generate(customer_message_id=asked(conversation, "Please cancel my last order").pk)
    refusal = reply_generate(customer_message_id=asked(conversation, "不要").pk)
    assert refusal.content == "好的，我先不做任何更改。"
    assert ActionCall.objects.get().status == ActionCall.Status.DECLINED
    assert company.hits["/cancel"] == 0  # type: ignore[attr-defined]
    # A proposal the customer answers with something else lapses: a later "yes" runs nothing.
    fake_ollama.script(Reply(structured={"action": "order_cancel", "arguments": {}}))
    reply_generate(customer_message_id=asked(conversation, "Please cancel my last order").pk)
    fake_ollama.script(Reply(structured={"action": "none", "arguments": {}}), Reply(content="Tea is lovely."))
    reply_generate(customer_message_id=asked(conversation, "What tea do you recommend?").pk)
    fake_ollama.script(Reply(content="Glad to help."))
    reply_generate(customer_message_id=asked(conversation, "yes").pk)
    lapsed = ActionCall.objects.order_by("-created_at").first()
    assert lapsed.status == ActionCall.Status.DECLINED and lapsed.error.startswith("lapsed")
    assert company.hits["/cancel"] == 0  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_an_action_agents_approve_hands_off_and_runs_once_on_approval(
    company: ThreadingHTTPServer, fake_ollama: Any,
) -> None:
    action_for(company, "/cancel?customer={customer_id}", name="order_cancel", method=Action.Method.POST,
               read_only=False, confirmation=Action.Confirmation.AGENT, intents=["question"])
    fake_ollama.script(Reply(structured={"action": "order_cancel", "arguments": {}}))
    conversation = verified_conversation("alice-7")
    reply = reply_generate(customer_message_id=asked(conversation, "Please cancel my last order").pk)
    conversation.refresh_from_db()
    assert conversation.handoff_reason == HandoffReason.ACTION_APPROVAL
    assert "order_cancel" in reply.content and company.hits["/cancel"] == 0  # type: ignore[attr-defined]
    call = action_proposal_approve(call_id=ActionCall.objects.get().pk)
    assert call.status == ActionCall.Status.OK and company.hits["/cancel"] == 1  # type: ignore[attr-defined]
    with pytest.raises(ApprovalRefused):
        action_proposal_approve(call_id=call.pk)
    assert company.hits["/cancel"] == 1  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_the_model_choosing_none_leaves_the_reply_to_the_knowledge_base(
    company: ThreadingHTTPServer, fake_ollama: Any,
) -> None:
    action_for(company, "/orders?customer={customer_id}")
    fake_ollama.script(Reply(structured={"action": "none", "arguments": {}}), Reply(content="Shipping takes 3 days."))
    message = asked(verified_conversation("alice-7"), "Where is my order?")
    reply = reply_generate(customer_message_id=message.pk)
    assert sum(company.hits.values()) == 0  # type: ignore[attr-defined]
    assert reply.retrieval["action_choice"] == "none" and not ActionCall.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_demo_order_api_needs_its_key_and_shows_only_the_demo_customers_orders(
    client: Any, settings: Any,
) -> None:
    settings.DEMO_CUSTOMER_ID = "demo-customer-1"
    assert client.get("/demo/api/orders?customer=demo-customer-1").status_code == 401
    wrong = client.get("/demo/api/orders?customer=demo-customer-1", headers={DEMO_KEY_HEADER: "nope"})
    assert wrong.status_code == 401 and "orders" not in wrong.json()
    key = {DEMO_KEY_HEADER: settings.DEMO_ORDERS_KEY}
    mine = client.get("/demo/api/orders?customer=demo-customer-1", headers=key).json()["orders"]
    assert [order["number"] for order in mine] == ["10234", "10187"]
    one = client.get("/demo/api/orders?customer=demo-customer-1&order=%2310187", headers=key).json()["orders"]
    assert [order["number"] for order in one] == ["10187"]
    assert client.get("/demo/api/orders?customer=someone-else", headers=key).json()["orders"] == []


@pytest.mark.django_db
def test_the_demo_page_signs_its_customer_in(client: Any, settings: Any) -> None:
    settings.WIDGET_IDENTITY_SECRET, settings.DEMO_CUSTOMER_ID = "site-secret", "demo-customer-1"
    page = client.get("/").content.decode()
    assert 'id="demo-user"' in page and "demo-customer-1" in page
    settings.WIDGET_IDENTITY_SECRET = ""
    assert 'id="demo-user"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_headers_are_stored_encrypted(company: ThreadingHTTPServer) -> None:
    action = action_for(company, "/orders?customer={customer_id}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT headers FROM conversations_action WHERE id = %s", [action.pk])
        (stored,) = cursor.fetchone()
    assert "s3cret" not in stored
    assert Action.objects.get(pk=action.pk).headers == "Authorization: Bearer s3cret"


@pytest.mark.django_db(transaction=True)
def test_an_faq_never_answers_a_message_an_action_is_for(
    company: ThreadingHTTPServer, fake_ollama: Any, reply_runner: str,
) -> None:
    """The FAQ and the answer cache answer as a message is stored, and the reply task would take an FAQ entry
    too: the customer's own order is the action's to answer, posted as the widget posts it."""
    from conversations.services.messages import message_post_customer
    from knowledge.tests.factories import faq_create

    faq_create("Where is my order?", "Track it with the link in your shipping email.", language="en")
    action_for(company, "/orders?customer={customer_id}")
    fake_ollama.state.default_reply = Reply(structured={"action": "order_lookup", "arguments": {}},
                                            cite_first_source=True)
    conversation = verified_conversation("alice-7")
    message_post_customer(conversation=conversation, text="Where is my order?", client_id="f-1")
    reply = wait_for(lambda: conversation.messages.filter(role=Message.Role.BOT, status=Message.Status.COMPLETE)
                     .first(), timeout=30)
    assert reply.answer_source == Message.AnswerSource.LLM and "55501" in reply.content
    assert reply.sources[0]["action_call_id"] == ActionCall.objects.get().pk
    # Evaluation runs measure the knowledge base: there the FAQ still answers at once.
    evaluated = conversation_factory(evaluation=True)
    message_post_customer(conversation=evaluated, text="Where is my order?", client_id="f-2")
    assert evaluated.messages.get(role=Message.Role.BOT).answer_source == Message.AnswerSource.FAQ


@pytest.mark.django_db
def test_admin_keeps_header_values_secret_and_checks_the_url_template(staff_client: Any) -> None:
    form = {"name": "order_lookup", "description": "Look up orders.", "active": "on", "intents": '["order_status"]',
            "parameters": '{"type": "object", "properties": {"order_number": {"type": "string"}}}',
            "method": "GET", "base_url": "https://shop.example.com", "timeout_s": "5", "read_only": "on",
            "requires_verified_identity": "on", "confirmation": "customer", "result_format": "json",
            "result_template": "", "result_max_chars": "2000", "new_headers": "X-Api-Key: k-123"}
    bad = staff_client.post("/admin/conversations/action/add/", {**form, "path_template": "/o?c={customer}"})
    assert bad.status_code == 200 and "{customer} in the path template" in bad.content.decode()
    nested = {**form, "path_template": "/o", "parameters": '{"properties": {"q": {"type": "object"}}}'}
    assert "A flat object schema" in staff_client.post("/admin/conversations/action/add/", nested).content.decode()
    made = staff_client.post("/admin/conversations/action/add/", {**form, "path_template": "/o?c={customer_id}"})
    assert made.status_code == 302
    action = Action.objects.get()
    assert action.headers == "X-Api-Key: k-123"
    page = staff_client.get(f"/admin/conversations/action/{action.pk}/change/").content.decode()
    assert "X-Api-Key" in page and "k-123" not in page
    staff_client.post(f"/admin/conversations/action/{action.pk}/change/",
                      {**form, "path_template": "/o?c={customer_id}", "new_headers": ""})
    assert Action.objects.get().headers == "X-Api-Key: k-123"  # left empty: kept


@pytest.mark.django_db(transaction=True)
def test_a_number_the_shops_answer_does_not_hold_is_caught_like_any_sources(
    demo_shop: Action, fake_ollama: Any,
) -> None:
    fake_ollama.script(Reply(structured={"action": DEMO_ACTION_NAME, "arguments": {}}), Reply(change_number=True))
    conversation = verified_conversation("demo-customer-1")
    reply = reply_generate(customer_message_id=asked(conversation, "Where is my order?").pk)
    assert "10234" not in reply.content and reply.unverified_facts  # the order number misquoted, and caught
    conversation.refresh_from_db()
    assert conversation.handoff_reason == HandoffReason.UNVERIFIED_FACT


@pytest.mark.django_db
def test_the_actions_are_kept_per_process_and_an_admins_change_is_seen_by_the_next_message(
    django_assert_num_queries: Any,
) -> None:
    from conversations.selectors.actions import actions_for_intent, actions_kept, proposal_pending
    from helpdesk.runtime.versioned import Versioned

    conversation = conversation_factory()
    worker = Versioned(actions_kept.name, actions_kept.load)  # another process's copy
    assert actions_for_intent(Intent.ORDER_STATUS) == [] and worker.get() == []
    with django_assert_num_queries(0):  # no action: nothing to look up, not even a pending proposal
        assert actions_for_intent(Intent.ORDER_STATUS) == [] and proposal_pending(conversation) is None
    action = Action.objects.create(name="order_lookup", description="Look up orders.", base_url="https://shop.example",
                                   path_template="/orders", intents=[Intent.ORDER_STATUS],
                                   confirmation=Action.Confirmation.AGENT)
    assert [a.pk for a in actions_for_intent(Intent.ORDER_STATUS)] == [action.pk] == [a.pk for a in worker.get()]
    with django_assert_num_queries(0):  # no action the customer confirms: no proposal to look for
        assert proposal_pending(conversation) is None and actions_for_intent(Intent.REFUND) == []
    action.confirmation, action.active = Action.Confirmation.CUSTOMER, False
    action.save()
    assert actions_for_intent(Intent.ORDER_STATUS) == [] and worker.get()[0].active is False
    with django_assert_num_queries(1):  # a proposal outlives its action's switching off: looked for
        assert proposal_pending(conversation) is None
    action.delete()
    assert worker.get() == []
