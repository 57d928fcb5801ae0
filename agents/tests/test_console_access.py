"""Who may open the agents' console socket: agents only (not customers, not staff outside the group, not one taken out
of it mid-shift), from the console's own origin, with a verified session when 2FA is required.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from agents.tests.console import agent_create, new_conversation, open_console, session_cookie
from conversations.models import Conversation
from helpdesk.runtime import aio
from tests.support.chat import ChatClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("who", ["anonymous", "customer_account"])
async def test_only_agents_may_open_the_console(who) -> None:
    user = None if who == "anonymous" else await aio.db_call(lambda: agent_create("shopper", in_group=False))
    client, first = await open_console(user)
    closed = await client.receive()
    await client.close()
    assert first["code"] == "forbidden" and closed == {"type": "__close__", "code": 4403}


async def test_staff_who_are_not_agents_get_no_console() -> None:
    staff = await aio.db_call(lambda: agent_create("admin-clerk", staff=True, in_group=False))
    client, first = await open_console(staff)
    closed = await client.receive()
    await client.close()
    assert first["code"] == "forbidden" and closed == {"type": "__close__", "code": 4403}


async def test_an_agent_taken_out_of_the_group_mid_shift_is_refused_at_the_next_frame() -> None:
    ann = await aio.db_call(lambda: agent_create("ann"))
    conversation = await new_conversation()
    console, _ = await open_console(ann)
    await console.until("inbox")
    await aio.db_call(lambda: ann.groups.clear())
    await console.send({"type": "take_over", "conversation_id": conversation.pk})
    refused = await console.until("error")
    closed = await console.receive()
    await console.close()
    assert refused["code"] == "forbidden" and closed == {"type": "__close__", "code": 4403}
    stored = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    assert stored.status == "bot" and stored.agent_id is None


async def test_only_agents_are_offered_for_assignment() -> None:
    ann = await aio.db_call(lambda: agent_create("ann"))
    await aio.db_call(lambda: agent_create("clerk", staff=True, in_group=False))
    console, hello = await open_console(ann)
    await console.close()
    assert [a["name"] for a in hello["agents"]] == ["ann"]


async def test_a_customer_socket_cannot_send_agent_frames(chat) -> None:
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "take_over", "conversation_id": conversation.pk})
    error = await client.until("error")
    await client.close()
    assert error["code"] == "unknown_type"
    assert (await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk).status)) == "bot"


async def console_handshake(user: Any, *, origin: str | None, host: str = "127.0.0.1:8000",
                            extra: list[tuple[bytes, bytes]] | None = None) -> bool:
    """Whether the console socket's handshake is accepted for this Origin and Host."""
    from helpdesk.asgi import application

    cookie = await aio.db_call(session_cookie, user)
    headers = [(b"host", host.encode()), (b"cookie", f"sessionid={cookie}".encode()), *(extra or [])]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize("origin", [
    "https://evil.example",  # another site
    "https://127.0.0.1:8000",  # the same host and port, another scheme
    "http://127.0.0.1:9999",  # the same host, another port
    "http://127.0.0.1",  # the same host, the default port
    None,  # browsers always send one
])
async def test_another_origins_page_cannot_use_an_agents_cookie(origin) -> None:
    ann = await aio.db_call(lambda: agent_create("ann"))
    assert not await console_handshake(ann, origin=origin)
    assert await console_handshake(ann, origin="http://127.0.0.1:8000")


async def test_behind_a_tls_proxy_the_console_origin_is_https(settings) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["helpdesk.example"]
    ann = await aio.db_call(lambda: agent_create("ann"))
    proxied = [(b"x-forwarded-proto", b"https")]
    assert await console_handshake(ann, origin="https://helpdesk.example", host="helpdesk.example", extra=proxied)
    assert not await console_handshake(ann, origin="http://helpdesk.example", host="helpdesk.example", extra=proxied)
    assert not await console_handshake(ann, origin="https://helpdesk.example", host="helpdesk.example")


async def test_a_csrf_trusted_origin_may_open_the_console(settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://console.example.com", "https://*.agents.example"]
    ann = await aio.db_call(lambda: agent_create("ann"))
    assert await console_handshake(ann, origin="https://console.example.com")
    assert await console_handshake(ann, origin="https://eu.agents.example")
    assert not await console_handshake(ann, origin="http://console.example.com")
    assert not await console_handshake(ann, origin="https://console.example.com:8443")


async def test_with_2fa_required_the_socket_needs_a_session_verified_by_the_authenticator(settings) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from helpdesk.tests.test_signin import code_for

    settings.REQUIRE_2FA_FOR_STAFF = True
    ann = await aio.db_call(lambda: agent_create("ann"))
    device = await aio.db_call(lambda: TOTPDevice.objects.create(user=ann, name="phone"))

    password_only, first = await open_console(ann)  # a session signed in without the code
    closed = await password_only.receive()
    assert first["code"] == "forbidden" and closed == {"type": "__close__", "code": 4403}

    def sign_in_with_code() -> str:
        client = Client()
        response = client.post("/console/login/", {"username": "ann", "password": "pw", "otp_token": code_for(device)})
        assert response.status_code == 302
        return client.cookies["sessionid"].value

    from helpdesk.asgi import application

    cookie = await aio.db_call(sign_in_with_code)
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000"),
               (b"cookie", f"sessionid={cookie}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    assert (await communicator.connect(timeout=10))[0]
    verified = ChatClient(communicator)
    hello = await verified.receive()
    await verified.close()
    assert hello["type"] == "hello"
