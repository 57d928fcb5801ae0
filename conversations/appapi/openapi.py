"""The parts of /api/v1/schema that ninja does not generate: the widget's endpoints (plain Django views in
conversations.api, kept as they are) and the app channel's event stream (an ASGI consumer, not a ninja
operation: conversations.appapi.stream)."""

from __future__ import annotations

from typing import Any

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def widget_paths() -> dict[str, Any]:
    """OpenAPI path items for the widget's HTTP endpoints and the app's event stream."""
    return {
        "/api/v1/widget": {"get": {
            "tags": ["widget"], "summary": "The widget's configuration", "operationId": "widget_config",
            "description": "Whether this site may use the widget and, with `?lang=`, its words in that language. "
                           "Readable from every origin, no credentials.",
            "parameters": [{"in": "query", "name": "lang", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": _json("the configuration", {
                "type": "object", "properties": {"origin_allowed": {"type": "boolean"},
                                                 "language": {"type": "string"}, "catalog": {"type": "object"}}})},
        }},
        "/api/v1/conversations": {"post": {
            "tags": ["widget"], "summary": "Start a widget conversation", "operationId": "widget_conversation_create",
            "description": "A conversation for this browser, or a verified customer's own (body `{\"user\": {id, "
                           "name?, email?, ts, hash}}`); chat on over the websocket it names.",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"201": _json("created", {"type": "object", "properties": {
                "token": {"type": "string"}, "websocket": {"type": "string"}, "status": {"type": "string"}}}),
                "400": _json("invalid JSON", _ERROR), "403": _json("origin or identity refused", _ERROR),
                "429": _json("over the address's limit (Retry-After)", _ERROR)},
        }},
        "/api/v1/conversations/transcript": {"post": {
            "tags": ["widget"], "summary": "Download a conversation", "operationId": "widget_transcript",
            "description": "Body `{\"token\", \"lang\"?}`: the conversation's transcript as printable HTML.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["token"],
                "properties": {"token": {"type": "string"}, "lang": {"type": "string"}}}}}},
            "responses": {"200": {"description": "the transcript", "content": {"text/html": {}}},
                          "404": _json("no such conversation", _ERROR),
                          "429": _json("over the address's limit (Retry-After)", _ERROR)},
        }},
        "/api/v1/app/events": {"get": {
            "tags": ["app"], "summary": "The conversation's events (server-sent events)", "operationId": "app_events",
            "description": (
                "`text/event-stream` of the events the widget gets: `message` (a stored message, or a reply "
                "streaming so far, with `seq`), `delta` (`message_id`, `seq`, `text`), `done` (the finished reply), "
                "`status` (sent first on every connection, then on each change) and `typing`. Every event has an "
                "`id`: reconnect with it in `Last-Event-ID` and get what was missed, once. Without one the stream "
                "starts with the conversation's latest messages. A client that stops reading is disconnected once "
                "APP_SSE_MAX_QUEUED_BYTES wait for it."),
            "security": [{"AppKey": []}],
            "parameters": [
                {"in": "header", "name": "X-Conversation-Token", "required": True, "schema": {"type": "string"}},
                {"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the stream", "content": {"text/event-stream": {}}},
                          "400": _json("a Last-Event-ID this server did not send", _ERROR),
                          "401": _json("missing, unknown or revoked API key", _ERROR),
                          "404": _json("no conversation has this token", _ERROR),
                          "429": _json("over the app's rate limit (Retry-After)", _ERROR)},
        }},
    }
