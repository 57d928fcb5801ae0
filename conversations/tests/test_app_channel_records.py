"""The app channel's records in this process: keys made in admin (shown once, stored as a digest, revocable),
the channel of each conversation in the console's inbox, and the event stream's resume state."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from conversations.appapi.stream import BadEventId, StreamState, replay
from conversations.models import App, Message
from conversations.selectors.inbox import inbox_page
from conversations.services import apps

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_a_key_is_shown_once_kept_as_its_digest_and_revoked_in_admin(staff_client) -> None:
    response = staff_client.post(reverse("admin:conversations_app_add"),
                                 {"name": "ios", "allowed_origins": "", "rate_limit": "100/minute"}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    [key] = [word for text in shown for word in text.split() if word.startswith(apps.KEY_PREFIX)]
    app = App.objects.get(name="ios")
    assert app.key_hash == hashlib.sha256(key.encode()).hexdigest() and key.startswith(app.key_prefix)
    assert key not in str(App.objects.filter(pk=app.pk).values().get())
    page = staff_client.get(reverse("admin:conversations_app_change", args=[app.pk])).content.decode()
    assert key not in page and app.key_hash not in page
    assert apps.app_authenticate(key) == app and App.objects.get(pk=app.pk).last_used_at is not None
    assert apps.app_authenticate(key + "x") is None
    staff_client.post(reverse("admin:conversations_app_changelist"),
                      {"action": "revoke", "_selected_action": [app.pk]})
    assert apps.app_authenticate(key) is None


def test_a_rate_limit_that_is_no_rate_is_refused_in_admin(staff_client) -> None:
    response = staff_client.post(reverse("admin:conversations_app_add"),
                                 {"name": "web", "allowed_origins": "", "rate_limit": "lots"})
    assert response.status_code == 200 and "600/minute" in response.content.decode()
    assert not App.objects.exists()


def test_the_inbox_shows_and_filters_by_channel() -> None:
    web = conversation_factory(status="waiting_human")
    ios = conversation_factory(status="waiting_human", channel="app:ios")
    android = conversation_factory(status="waiting_human", channel="app:android")

    def ids(channel: str) -> set[int]:
        return {item["id"] for item in inbox_page(channel=channel)["items"]}

    assert ids("") == {web.pk, ios.pk, android.pk}
    assert ids("web") == {web.pk}
    assert ids("app") == {ios.pk, android.pk}
    assert ids("app:ios") == {ios.pk}
    assert {item["channel"] for item in inbox_page()["items"]} == {"web", "app:ios", "app:android"}


def test_a_resume_state_is_what_the_stream_sent() -> None:
    state = StreamState(watermark=7, delivered={9, 12}, streaming={8: 3})
    assert StreamState.decode(state.encode()) == state
    for bad in ("", "x", "w-1", "w1_dx", "w1_s5", "w1_s5:x"):
        with pytest.raises(BadEventId):
            StreamState.decode(bad)


def test_a_resume_sends_what_was_missed_once_and_a_streaming_reply_so_far() -> None:
    conversation = conversation_factory()
    first = customer_message_factory(conversation, "first")
    reply = bot_message_factory(conversation, "partial", reply_to=first, status=Message.Status.STREAMING)
    second = customer_message_factory(conversation, "second")  # written while the reply streams

    state, missed = replay(conversation, None)
    assert [(kind, payload.get("message", {}).get("id")) for kind, payload in missed] == [
        ("status", None), ("message", first.pk), ("message", reply.pk), ("message", second.pk)]
    assert state.watermark == first.pk and state.delivered == {second.pk}  # the reply holds the watermark back

    again, missed = replay(conversation, StreamState.decode(state.encode()))
    assert [kind for kind, _ in missed] == ["status"]  # nothing new: nothing again
    Message.objects.filter(pk=reply.pk).update(status=Message.Status.COMPLETE, content="whole")
    after, missed = replay(conversation, again)
    assert [(kind, payload["message"]["content"]) for kind, payload in missed[1:]] == [("done", "whole")]
    assert after.watermark == second.pk and not after.delivered and not after.streaming
