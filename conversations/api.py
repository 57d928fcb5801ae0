"""The widget's HTTP API (cross-origin via django-cors-headers for WIDGET_ALLOWED_ORIGINS)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services


@csrf_exempt  # called cross-origin by the widget; it carries no cookie and changes nothing of anyone else's
@require_POST
def conversation_create(request: HttpRequest) -> JsonResponse:
    conversation = services.conversation_create()
    return JsonResponse(
        {"token": conversation.token, "websocket": f"/ws/chat/{conversation.token}/", "status": conversation.status},
        status=201,
    )
