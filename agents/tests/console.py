"""The agents' console socket for tests: an agent, their session, an open console, a new conversation."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from conversations.models import Conversation
from conversations.services.identity import conversation_create
from helpdesk.runtime import aio
from tests.support.chat import ChatClient, open_socket


def agent_create(username: str, *, staff: bool = False, in_group: bool = True, first_name: str = "") -> Any:
    user = get_user_model().objects.create_user(username, password="pw", is_staff=staff, first_name=first_name)
    if in_group:
        user.groups.add(Group.objects.get_or_create(name="agents")[0])
    return user


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def open_console(user: Any | None) -> tuple[ChatClient, dict[str, Any]]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    if user is not None:
        cookie = await aio.db_call(session_cookie, user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return await open_socket("/ws/console/", headers)


async def new_conversation() -> Conversation:
    return await aio.db_call(conversation_create)
