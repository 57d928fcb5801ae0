"""CORS of the app API (conversations/appapi/cors.py): a page on an app's allowed origin may read its answers and
its event stream; any other origin is blocked by the browser and refused by the server; requests without an Origin
(mobile apps) are as before. The REST operations through Django's test client, the event stream as the ASGI app."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

from conversations.appapi.stream import EVENTS_PATH, event_stream_app
from conversations.models import App
from conversations.services import apps
from conversations.services.identity import conversation_create
from helpdesk.runtime import aio

WEB = "https://app.example.com"
DEV = "http://localhost:5173"
SHOP = "https://shop.example.cn"  # another app's origin


def make_app(name: str, origins: str, rate_limit: str = "") -> str:
    return apps.app_create(name=name, allowed_origins=origins, rate_limit=rate_limit)[1]


def cors_of(response: Any) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


def vary(response: Any) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("Vary", "").split(",") if part.strip()}


def create(client: Any, key: str | None, origin: str | None) -> Any:
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if origin is not None:
        headers["Origin"] = origin
    return client.post("/api/v1/app/conversations", data="{}", content_type="application/json", headers=headers)


def preflight(client: Any, origin: str | None, path: str = "/api/v1/app/messages",
              request_headers: str = "authorization,content-type,x-conversation-token") -> Any:
    headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": request_headers}
    if origin is not None:
        headers["Origin"] = origin
    return client.options(path, headers=headers)


# --- the REST operations ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("origin", [WEB, DEV, "https://app.example.com:443"])
def test_an_allowed_origin_is_echoed_with_vary(client, origin: str) -> None:
    key = make_app("web", f"{WEB}\n{DEV}/\n")
    response = create(client, key, origin)
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == origin
    assert "origin" in vary(response)
    assert {"retry-after", "www-authenticate"} <= {
        h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.example.com", "https://app.example.com:8443",
                                    SHOP, "null"])
def test_an_origin_the_keys_app_does_not_list_gets_403_and_no_cors(client, origin: str) -> None:
    key = make_app("web", WEB)
    make_app("shop", SHOP)  # listed by another app: still not this key's
    response = create(client, key, origin)
    assert response.status_code == 403 and response.json()["error"] == "origin_not_allowed"
    assert cors_of(response) == {}


@pytest.mark.django_db
def test_an_app_without_origins_refuses_every_browser(client) -> None:
    key = make_app("ios", "")
    response = create(client, key, WEB)
    assert response.status_code == 403 and cors_of(response) == {}


@pytest.mark.django_db
def test_without_an_origin_nothing_changes(client) -> None:
    key = make_app("ios", "")
    response = create(client, key, None)
    assert response.status_code == 201 and response.json()["token"]
    assert cors_of(response) == {}
    token = response.json()["token"]
    listed = client.get("/api/v1/app/messages", headers={"Authorization": f"Bearer {key}",
                                                         "X-Conversation-Token": token})
    assert listed.status_code == 200 and cors_of(listed) == {}


@pytest.mark.django_db
def test_a_rate_limited_answer_is_readable_with_its_retry_after(client, settings) -> None:
    settings.RATE_LIMITS_ENABLED = True
    key = make_app("web", WEB, rate_limit="2/minute")
    answers = [create(client, key, WEB) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[-1]["Access-Control-Allow-Origin"] == WEB and int(answers[-1]["Retry-After"]) >= 1
    assert "retry-after" in answers[-1]["Access-Control-Expose-Headers"].lower()


@pytest.mark.django_db
def test_a_bad_key_is_readable_only_on_an_origin_some_app_lists(client) -> None:
    key = make_app("web", WEB)
    apps.app_revoke(App.objects.get(name="web"))
    make_app("shop", SHOP)
    listed = create(client, "hdk_" + "x" * 43, SHOP)
    assert listed.status_code == 401 and listed["Access-Control-Allow-Origin"] == SHOP
    revoked_app_origin = create(client, key, WEB)  # its only app is revoked
    assert revoked_app_origin.status_code == 401 and cors_of(revoked_app_origin) == {}
    stranger = create(client, None, "https://evil.example")
    assert stranger.status_code == 401 and cors_of(stranger) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("origin", [WEB, SHOP])
def test_a_preflight_from_an_origin_any_app_lists_is_answered(client, origin: str) -> None:
    make_app("web", WEB)
    make_app("shop", f"https://*.example.cn\n{DEV}")
    response = preflight(client, origin)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == origin and "origin" in vary(response)
    assert {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")} == {"GET", "POST"}
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-conversation-token", "last-event-id"} <= allowed
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:8000", None])
def test_a_preflight_from_an_origin_no_app_lists_is_refused(client, origin: str | None) -> None:
    make_app("web", WEB)
    revoked = App.objects.get(pk=apps.app_create(name="old", allowed_origins="https://evil.example")[0].pk)
    apps.app_revoke(revoked)
    response = preflight(client, origin)
    assert response.status_code == 403 and cors_of(response) == {}
    assert response.json()["error"] == "origin_not_allowed"


@pytest.mark.django_db
def test_the_widgets_endpoints_keep_their_own_cors(client, settings) -> None:
    """The widget's origins (WIDGET_ALLOWED_ORIGINS, django-cors-headers) open the widget's endpoints, not the app
    API's; an app's origins open the app API only."""
    widget_origin = settings.WIDGET_ALLOWED_ORIGINS[0]
    make_app("web", WEB)
    widget = preflight(client, widget_origin, path="/api/v1/conversations", request_headers="content-type")
    assert widget.status_code == 200 and widget["Access-Control-Allow-Origin"] == widget_origin
    assert cors_of(preflight(client, widget_origin)) == {}
    app_origin = preflight(client, WEB, path="/api/v1/conversations", request_headers="content-type")
    assert "Access-Control-Allow-Origin" not in app_origin
    assert preflight(client, WEB)["Access-Control-Allow-Origin"] == WEB


# --- the event stream -------------------------------------------------------------------------------------------


async def stream_answer(headers: dict[str, str], method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """The event stream's status, headers and body (none for a stream that opened: the client leaves)."""
    scope = {"type": "http", "method": method, "path": EVENTS_PATH, "query_string": b"", "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000)}
    app = ApplicationCommunicator(event_stream_app, scope)
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await app.receive_output(10)
    got = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b""
    if start["status"] == 200:
        await app.send_input({"type": "http.disconnect"})
    else:
        body = (await app.receive_output(10))["body"]
    await app.wait(10)
    return start["status"], got, body


async def seeded(origins: str) -> tuple[str, str]:
    key = await aio.db_call(make_app, "web", origins)
    conversation = await aio.db_call(conversation_create)
    return key, conversation.token


@pytest.mark.django_db(transaction=True)
async def test_the_stream_is_readable_on_an_allowed_origin() -> None:
    key, token = await seeded(f"{WEB}\n{DEV}")
    status, headers, _ = await stream_answer({"Authorization": f"Bearer {key}", "X-Conversation-Token": token,
                                              "Origin": DEV})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert headers["access-control-allow-origin"] == DEV and headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in headers


@pytest.mark.django_db(transaction=True)
async def test_the_stream_refuses_another_origin_without_cors() -> None:
    key, token = await seeded(WEB)
    status, headers, body = await stream_answer({"Authorization": f"Bearer {key}", "X-Conversation-Token": token,
                                                 "Origin": "https://evil.example"})
    assert status == 403 and json.loads(body)["error"] == "origin_not_allowed"
    assert not any(name.startswith("access-control-") for name in headers)


@pytest.mark.django_db(transaction=True)
async def test_the_stream_without_an_origin_is_as_before() -> None:
    key, token = await seeded("")
    status, headers, _ = await stream_answer({"Authorization": f"Bearer {key}", "X-Conversation-Token": token})
    assert status == 200 and not any(name.startswith("access-control-") for name in headers)


@pytest.mark.django_db(transaction=True)
async def test_the_streams_preflight_is_answered_for_a_listed_origin_only() -> None:
    await seeded(WEB)
    asked = {"Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "authorization,x-conversation-token,last-event-id"}
    status, headers, _ = await stream_answer({**asked, "Origin": WEB}, method="OPTIONS")
    assert status == 204 and headers["access-control-allow-origin"] == WEB
    assert "last-event-id" in headers["access-control-allow-headers"].lower()
    assert "GET" in headers["access-control-allow-methods"]
    status, headers, body = await stream_answer({**asked, "Origin": "https://evil.example"}, method="OPTIONS")
    assert status == 403 and json.loads(body)["error"] == "origin_not_allowed"
    assert not any(name.startswith("access-control-") for name in headers)


@pytest.mark.django_db(transaction=True)
async def test_the_streams_401_is_readable_on_a_listed_origin() -> None:
    await seeded(WEB)
    status, headers, _ = await stream_answer({"Authorization": "Bearer hdk_nope", "Origin": WEB})
    assert status == 401 and headers["access-control-allow-origin"] == WEB
