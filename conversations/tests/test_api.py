"""The widget's HTTP API: whether a site may embed the chat, and conversations only for those that may."""

from __future__ import annotations

import pytest

from conversations.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://shop.example", True), ("https://evil.example", False), ("http://testserver", True), ("", True)],
)
def test_widget_config_tells_any_site_whether_it_may_embed_the_chat(client, settings, origin, allowed) -> None:
    settings.WIDGET_ALLOWED_ORIGINS = ["https://shop.example"]
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = client.get("/api/v1/widget", **headers)
    assert response.status_code == 200
    assert response.json() == {"origin_allowed": allowed}
    # Readable by the refused site too: that is how its widget can say why it stays away.
    assert response["Access-Control-Allow-Origin"] in ("*", origin)
    assert "origin" in response["Vary"].lower()


def test_a_site_not_allowed_gets_no_conversation(client, settings) -> None:
    settings.WIDGET_ALLOWED_ORIGINS = ["https://shop.example"]
    refused = client.post("/api/v1/conversations", HTTP_ORIGIN="https://evil.example")
    allowed = client.post("/api/v1/conversations", HTTP_ORIGIN="https://shop.example")
    assert refused.status_code == 403 and refused.json()["error"] == "origin_not_allowed"
    assert allowed.status_code == 201
    assert Conversation.objects.count() == 1
