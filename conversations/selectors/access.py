"""Who may reach a conversation: its token's form, the widget's allowed origins, the look-ups by id and token."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

from helpdesk.web.origins import origin_allowed

from ..models import App, Conversation

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def token_is_well_formed(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token or ""))


def widget_origin_allowed(*, origin: str, host: str) -> bool:
    """Whether a page at `origin` may use the widget: the server's own site or one in WIDGET_ALLOWED_ORIGINS.

    No Origin at all is allowed: browsers always send it across origins (and on websockets), so a request
    without one is the server's own page or not a browser, and cannot be a lure from another site.
    """
    origin = origin.rstrip("/")
    if not origin:
        return True
    if origin_allowed(origin, settings.WIDGET_ALLOWED_ORIGINS):
        return True
    return bool(host) and urlsplit(origin).netloc == host


def conversation_get(*, conversation_id: int) -> Conversation:
    return Conversation.objects.get(pk=conversation_id)


def conversation_get_by_token(*, token: str) -> Conversation | None:
    if not token_is_well_formed(token):
        return None
    return Conversation.objects.filter(token=token).first()



def app_origin_listed(*, origin: str) -> bool:
    """Whether `origin` is among the allowed origins of any app whose key is not revoked: what a CORS preflight
    to the app API can be checked against, since a preflight carries no key (conversations.appapi.cors)."""
    origin = origin.strip().rstrip("/")
    if not origin:
        return False
    rows = App.objects.filter(revoked_at__isnull=True).exclude(allowed_origins="")
    return any(origin_allowed(origin, app.origins()) for app in rows.only("allowed_origins"))
