"""A customer's rights served from admin, the command line and the widget: found by external id, email or
token; exported as JSON or a transcript; erased after confirmation; each request recorded, naming no one."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from conversations.models import Conversation, Customer, Feedback, Message, PrivacyRequest

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace() -> Conversation:
    customer = Customer.objects.create(external_id="acct-4471", name="Grace Liu", email="grace@example.com")
    conversation = conversation_factory(customer=customer, contact_email="grace.home@example.net")
    question = customer_message_factory(conversation, "Can I return the teal kettle?")
    reply = bot_message_factory(conversation, "Yes, within 30 days.", reply_to=question)
    Feedback.objects.create(conversation=conversation, message=reply, rating=1)
    Message.objects.create(conversation=conversation, role=Message.Role.NOTE, content="VIP, be kind")
    customer_message_factory(conversation_factory(customer=customer), "我想退货：青色水壶")
    return conversation


@pytest.fixture
def other() -> Conversation:
    conversation = conversation_factory()
    customer_message_factory(conversation, "Where is parcel 88-ZX?")
    return conversation


# --- the command line ---------------------------------------------------------------------------


def test_the_export_command_writes_json_or_a_transcript(grace, other, tmp_path) -> None:
    out = tmp_path / "grace.json"
    call_command("privacy_export", "--external-id", "acct-4471", "--out", str(out), stderr=io.StringIO())
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["name"] for c in data["data"]["conversations.customer"]] == ["Grace Liu"]
    texts = [m["content"] for m in data["data"]["conversations.message"]]
    assert "我想退货：青色水壶" in texts and "VIP, be kind" in texts and "Where is parcel 88-ZX?" not in texts
    assert grace.token not in out.read_text(encoding="utf-8")

    html = io.StringIO()
    call_command(
        "privacy_export", "--email", "GRACE@example.com", "--format", "html", "--language", "zh-hans", stdout=html
    )
    assert "teal kettle" in html.getvalue() and "青色水壶" in html.getvalue()
    assert "VIP, be kind" not in html.getvalue()  # private notes are the agents'
    assert "您觉得这条回复有帮助" in html.getvalue()
    assert PrivacyRequest.objects.filter(kind="export", channel="command").count() == 2


def test_the_erase_command_says_what_goes_erases_on_yes_and_not_on_a_dry_run(grace, other) -> None:
    out = io.StringIO()
    call_command("privacy_erase", "--email", "grace@example.com", "--dry-run", stdout=out)
    assert "conversations.message: 4 (delete)" in out.getvalue() and "Dry run" in out.getvalue()
    assert Customer.objects.count() == 1 and not PrivacyRequest.objects.exists()

    call_command("privacy_erase", "--email", "grace@example.com", "--yes", stdout=io.StringIO())
    assert not Customer.objects.exists() and list(Conversation.objects.all()) == [other]
    [record] = PrivacyRequest.objects.all()
    assert (record.kind, record.looked_up_by, record.counts["conversations.conversation"]) == ("erase", "email", 2)
    assert "grace" not in json.dumps(record.counts) + record.subject_digest


@pytest.mark.parametrize("arguments", [[], ["--external-id", "nobody"], ["--token", "not-a-token"]])
def test_the_commands_refuse_without_a_subject(grace, arguments) -> None:
    for command in ("privacy_export", "privacy_erase"):
        with pytest.raises(CommandError):
            call_command(command, *arguments, "--dry-run" if command == "privacy_erase" else "--format=json")
    assert Customer.objects.exists()


# --- admin --------------------------------------------------------------------------------------


def test_a_dpo_finds_a_customer_downloads_their_data_and_erases_it_after_confirming(
    staff_client,
    grace,
    other,
    django_capture_on_commit_callbacks,
) -> None:
    page = staff_client.get("/admin/conversations/privacyrequest/new/")
    assert page.status_code == 200 and "Download JSON" in page.content.decode()
    download = staff_client.post("/admin/conversations/privacyrequest/new/", {"external_id": "acct-4471", "do": "json"})
    assert download["Content-Disposition"].startswith("attachment")
    assert "Grace Liu" in download.content.decode()
    transcript = staff_client.post(
        "/admin/conversations/privacyrequest/new/", {"email": "grace.home@example.net", "do": "html", "language": "en"}
    )
    assert "teal kettle" in transcript.content.decode() and "青色水壶" not in transcript.content.decode()

    confirm = staff_client.post("/admin/conversations/privacyrequest/new/", {"external_id": "acct-4471", "do": "erase"})
    body = confirm.content.decode()
    assert "Yes, erase all of it" in body and "<td>4</td>" in body  # four messages will go
    assert Customer.objects.exists(), "nothing goes before it is confirmed"
    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(
            "/admin/conversations/privacyrequest/erase/", {"external_id": "acct-4471", "confirm": "yes"}
        )
    record = PrivacyRequest.objects.get(kind="erase")
    assert done.status_code == 302 and done["Location"].endswith(f"/{record.pk}/change/")
    assert record.requested_by == staff_client.user and record.completed_at
    assert not Customer.objects.exists() and Conversation.objects.get() == other
    assert staff_client.get("/admin/conversations/privacyrequest/").status_code == 200
    assert "Grace" not in staff_client.get(done["Location"]).content.decode()  # the record names no one


def test_the_customer_and_conversation_lists_export_and_erase_the_chosen(staff_client, grace, other) -> None:
    customer = Customer.objects.get()
    exported = staff_client.post(
        "/admin/conversations/customer/", {"action": "export_personal_data", "_selected_action": [customer.pk]}
    )
    assert json.loads(exported.content)["subject"] == {"customers": 1, "conversations": 2}
    confirm = staff_client.post(
        "/admin/conversations/conversation/", {"action": "erase_personal_data", "_selected_action": [other.pk]}
    )
    assert "Yes, erase all of it" in confirm.content.decode()
    staff_client.post("/admin/conversations/privacyrequest/erase/", {"conversations": str(other.pk), "confirm": "yes"})
    assert not Conversation.objects.filter(pk=other.pk).exists() and Conversation.objects.count() == 2


def test_staff_without_the_permissions_may_neither_export_nor_erase(client, grace) -> None:
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/conversations/privacyrequest/new/").status_code == 403
    assert (
        client.post(
            "/admin/conversations/privacyrequest/erase/", {"external_id": "acct-4471", "confirm": "yes"}
        ).status_code
        == 403
    )
    user.user_permissions.add(Permission.objects.get(codename="export_personal_data"))
    client.force_login(get_user_model().objects.get(pk=user.pk))
    assert (
        client.post("/admin/conversations/privacyrequest/new/", {"external_id": "acct-4471", "do": "json"}).status_code
        == 200
    )
    assert (
        client.post(
            "/admin/conversations/privacyrequest/erase/", {"external_id": "acct-4471", "confirm": "yes"}
        ).status_code
        == 403
    )
    assert Customer.objects.exists()


# --- the widget's "download this conversation" ------------------------------------------------------


def test_the_widget_downloads_its_own_conversation_only_by_its_token(client, grace, other) -> None:
    response = client.post(
        "/api/v1/conversations/transcript", {"token": grace.token, "lang": "zh-CN"}, content_type="application/json"
    )
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "teal kettle" in body and "您觉得这条回复有帮助" in body
    assert "青色水壶" not in body and "Grace Liu" not in body  # that one conversation, not the customer's others
    assert "VIP, be kind" not in body
    assert PrivacyRequest.objects.get().channel == "widget"
    english = client.post(
        "/api/v1/conversations/transcript", {"token": grace.token}, content_type="application/json"
    ).content.decode()
    assert "You found this reply helpful." in english

    for token in ("x" * 43, "", None, 7):
        refused = client.post("/api/v1/conversations/transcript", {"token": token}, content_type="application/json")
        assert refused.status_code == 404 and refused.json()["error"] == "unknown_conversation"
    assert client.post("/api/v1/conversations/transcript", "{", content_type="application/json").status_code == 400
    assert client.get("/api/v1/conversations/transcript").status_code == 405


def test_the_widget_download_is_limited_per_address_and_by_origin(client, settings, grace) -> None:
    settings.RATE_LIMIT_TRANSCRIPTS_PER_IP = "3/minute"
    settings.WIDGET_ALLOWED_ORIGINS = ["https://shop.example"]
    statuses = [
        client.post(
            "/api/v1/conversations/transcript",
            {"token": grace.token},
            content_type="application/json",
            HTTP_ORIGIN="https://shop.example",
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = client.post(
        "/api/v1/conversations/transcript",
        {"token": grace.token},
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert refused.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_widget_open_on_an_erased_conversation_is_closed_as_for_an_unknown_token(chat) -> None:
    from conversations.privacy.erasure import subject_erase
    from conversations.privacy.subjects import subject_find
    from helpdesk.runtime import aio

    conversation = await aio.db_call(conversation_factory)
    client, history = await chat(conversation.token)
    assert history["type"] == "history"

    def erase() -> None:
        subject_erase(
            subject_find(token=conversation.token), channel="admin", looked_up_by="token", value=conversation.token
        )

    await aio.db_call(erase)
    frame = await client.until("error")
    assert frame["code"] == "unknown_conversation"
    assert (await client.receive())["code"] == 4404


def test_the_erase_command_erases_nothing_unless_told_yes(grace, monkeypatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="not confirmed"):
        call_command(
            "privacy_erase", "--external-id", "acct-4471", "--email", "grace@example.com", stdout=io.StringIO()
        )
    assert Customer.objects.exists() and not PrivacyRequest.objects.exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("privacy_erase", "--external-id", "acct-4471", "--email", "grace@example.com", stdout=io.StringIO())
    assert not Customer.objects.exists()
    assert PrivacyRequest.objects.get().looked_up_by == "external_id+email"
