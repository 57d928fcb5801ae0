"""The widget's HTTP API (cross-origin via django-cors-headers for WIDGET_ALLOWED_ORIGINS)."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services


@csrf_exempt  # called cross-origin by the widget; it carries no cookie and changes nothing of anyone else's
@require_POST
def conversation_create(request: HttpRequest) -> JsonResponse:
    """A conversation for this browser, or a verified customer's own: body `{"user": {id, name?, email?, hash}}`."""
    user = None
    if request.body and request.content_type == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            return JsonResponse({"error": "invalid_json", "detail": "the body is not valid JSON"}, status=400)
        user = body.get("user") if isinstance(body, dict) else None
    try:
        conversation = services.conversation_create(user=user)
    except services.IdentityRefused as exc:
        return JsonResponse({"error": exc.code, "detail": exc.detail}, status=403)
    return JsonResponse(
        {"token": conversation.token, "websocket": f"/ws/chat/{conversation.token}/", "status": conversation.status},
        status=201,
    )
