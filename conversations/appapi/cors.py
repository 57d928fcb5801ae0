"""CORS for the app API (/api/v1/app/...): a web front end on one of an app's allowed origins calls it from a
browser, its REST operations and its event stream alike (README "App channel", "From a browser").

The rule, for a request with an Origin header (a browser's; mobile apps and servers send none and are not
touched):
- It carries a valid key: its answer is readable by the page (`Access-Control-Allow-Origin: <that origin>`) when
  the origin is one of that app's allowed origins, 429s included (their Retry-After exposed). Any other origin
  gets access.OriginRefused's 403 without the header, so the browser blocks it as well.
- Its key is missing, unknown or revoked (401): readable when any active app lists the origin, as a preflight
  is, so the page can tell a revoked key from a network failure; the 401 says nothing about any app.
- A preflight (OPTIONS with Access-Control-Request-Method) carries no key, so it cannot be checked per app: it is
  answered 204 with the origin echoed when any active app lists the origin, else 403 without CORS headers. The
  actual request is then checked against its own app.
- Never `*` and never credentials: the key travels in a header, no cookie is involved. Every answer of these
  paths says `Vary: Origin`.

django-cors-headers, which answers for the widget's endpoints from WIDGET_ALLOWED_ORIGINS, leaves these paths alone
(CORS_URLS_REGEX in helpdesk/settings.py). The REST side is AppApiCorsMiddleware; the event stream, an ASGI app
before Django, uses the same functions (conversations.appapi.stream).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers

from ..protocol.codes import ErrorCode
from ..selectors.access import app_origin_listed

logger = logging.getLogger(__name__)

PREFIX = "/api/v1/app/"
ALLOW_METHODS = "GET, POST"
# Every request header the app API reads (Accept and Accept-Language need no permission).
ALLOW_HEADERS = "Authorization, Content-Type, X-Conversation-Token, Last-Event-ID"
# Response headers a page may read beyond the safelisted ones: a 429's (and a busy 503's) wait, a 401's scheme.
EXPOSE_HEADERS = "Retry-After, WWW-Authenticate"
# How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours).
MAX_AGE_S = 600
# Set on the request by the app's key check (rest.AppKey) once the app admitted its Origin: the origin to echo,
# or "" when the request sent none.
ADMITTED_ORIGIN = "app_api_origin"


def is_preflight(method: str, request_method_header: str | None) -> bool:
    return method == "OPTIONS" and request_method_header is not None


def origin_listed(origin: str) -> bool:
    """Whether any active app lists `origin` (a preflight's and a 401's check); False when the database cannot
    say (the browser then blocks the page, which retries as it would after a network failure)."""
    if not origin.strip():
        return False
    try:
        return app_origin_listed(origin=origin)
    except DatabaseError as exc:
        logger.warning("app API CORS: the apps' origins could not be read (%s)", type(exc).__name__)
        return False


def readable_headers(origin: str) -> list[tuple[str, str]]:
    """What makes an answer readable by a page on `origin` (an origin already found allowed)."""
    return [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]


def preflight(origin: str) -> tuple[int, list[tuple[str, str]], dict[str, str] | None]:
    """(status, headers, JSON body or None) of a preflight from `origin`."""
    if origin_listed(origin):
        return 204, [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", ALLOW_METHODS),
                     ("Access-Control-Allow-Headers", ALLOW_HEADERS), ("Access-Control-Max-Age", str(MAX_AGE_S)),
                     ("Vary", "Origin")], None
    return 403, [("Vary", "Origin")], {"error": ErrorCode.ORIGIN_NOT_ALLOWED,
                                      "detail": "this origin is not among any app's allowed origins"}


def answer_headers(origin: str, *, admitted: str | None, status: int) -> list[tuple[str, str]]:
    """CORS headers of an answer (not a preflight's) to a request from `origin`: `admitted` is the origin the
    request's app admitted ("" for none), or None when no app was found or its origin was refused."""
    if not origin:
        return []
    if admitted:
        return readable_headers(origin)
    if admitted is None and status == 401 and origin_listed(origin):
        return readable_headers(origin)
    return []


class AppApiCorsMiddleware:
    """The rule above for the app API's REST operations; every other path passes untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        origin = request.headers.get("Origin", "")
        if is_preflight(request.method or "", request.headers.get("Access-Control-Request-Method")):
            status, headers, body = preflight(origin)
            response: HttpResponse = JsonResponse(body, status=status) if body else HttpResponse(status=status)
        else:
            response = self.get_response(request)
            headers = answer_headers(origin, admitted=getattr(request, ADMITTED_ORIGIN, None),
                                     status=response.status_code)
        for name, value in headers:
            if name != "Vary":
                response[name] = value
        patch_vary_headers(response, ("Origin",))
        return response
