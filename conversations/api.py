"""The widget's HTTP API (cross-origin via django-cors-headers for WIDGET_ALLOWED_ORIGINS)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_POST

from helpdesk import i18n
from helpdesk.web import ratelimits

from .mail.compose import transcript_link_open
from .models import PrivacyRequest
from .privacy.export import transcript_html
from .privacy.records import privacy_request_record
from .privacy.subjects import subject_find, subject_of
from .protocol.codes import ErrorCode
from .selectors.access import widget_origin_allowed
from .services import identity

ORIGIN_REFUSED = {
    "error": ErrorCode.ORIGIN_NOT_ALLOWED,
    "detail": "this site is not in the helpdesk's WIDGET_ALLOWED_ORIGINS",
}


def rate_limited_response(exc: ratelimits.RateLimited) -> JsonResponse:
    """HTTP 429 with Retry-After (also in the body: a cross-origin script may not read the header)."""
    response = JsonResponse(
        {"error": ErrorCode.RATE_LIMITED, "limit": exc.what, "retry_after": exc.retry_after,
         "detail": f"too many requests from this address; retry after {exc.retry_after} s"},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def _origin_allowed(request: HttpRequest) -> bool:
    return widget_origin_allowed(origin=request.headers.get("Origin", ""), host=request.get_host())


def _refusal(request: HttpRequest, limit_check: Callable[..., None]) -> JsonResponse | None:
    """The answer to a request from a site that may not use the widget, or over its address's limit."""
    if not _origin_allowed(request):
        return JsonResponse(ORIGIN_REFUSED, status=403)
    try:
        limit_check(client_ip=request.META.get("REMOTE_ADDR", ""))
    except ratelimits.RateLimited as exc:
        return rate_limited_response(exc)
    return None


@require_GET
@gzip_page  # the catalog is most of what a customer downloads besides widget.js (tests/test_widget_static.py)
def widget_config(request: HttpRequest) -> JsonResponse:
    """What the widget asks before it shows itself: may this site use it, and (`?lang=`) its words in a language.

    Readable from every origin (`Access-Control-Allow-Origin: *`, no cookies), so
    that a site missing from WIDGET_ALLOWED_ORIGINS gets a clear console error
    instead of an unreadable CORS failure and a widget reconnecting for ever.
    The catalog is the widget's part of djangojs (helpdesk.i18n.js_catalog): the
    script carries the English, the server every translation of it.
    """
    config: dict[str, object] = {"origin_allowed": _origin_allowed(request)}
    if "lang" in request.GET:
        language = i18n.supported_language(request.GET["lang"])
        config.update(language=language, catalog=i18n.js_catalog(language, "widget"))
        if settings.WIDGET_PRIVACY_NOTICE_URL:
            config["privacy_notice"] = privacy_notice(language)
    response = JsonResponse(config, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "max-age=300"
    response["Vary"] = "Origin"
    return response


def privacy_notice(language: str) -> dict[str, str]:
    """The notice the widget shows at the start of a chat: its link, its version (sent back when it was shown),
    and the site's own wording in the customer's language if it set one (else the widget's, translated: never
    the other language's wording)."""
    chinese = language.startswith("zh")
    text = settings.WIDGET_PRIVACY_NOTICE_TEXT_ZH if chinese else settings.WIDGET_PRIVACY_NOTICE_TEXT
    return {"url": settings.WIDGET_PRIVACY_NOTICE_URL, "version": settings.WIDGET_PRIVACY_NOTICE_VERSION,
            "text": text}


@csrf_exempt  # called cross-origin by the widget; it carries no cookie and changes nothing of anyone else's
@require_POST
def conversation_create(request: HttpRequest) -> JsonResponse:
    """A conversation for this browser, or a verified customer's own: body `{"user": {id, name?, email?, ts, hash}}`."""
    # Every creation counts, with or without an Origin: a script that sends none is no browser, and
    # is held to the same budget per address (REMOTE_ADDR is the client: helpdesk/web/clientip.py).
    if refused := _refusal(request, ratelimits.conversation_create_check):
        return refused
    user = None
    if request.body and request.content_type == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            return JsonResponse({"error": ErrorCode.INVALID_JSON, "detail": "the body is not valid JSON"}, status=400)
        user = body.get("user") if isinstance(body, dict) else None
    try:
        conversation = identity.conversation_create(user=user)
    except identity.IdentityRefused as exc:
        return JsonResponse({"error": exc.code, "detail": exc.detail}, status=403)
    return JsonResponse(
        {"token": conversation.token, "websocket": f"/ws/chat/{conversation.token}/", "status": conversation.status},
        status=201,
    )


@csrf_exempt  # called cross-origin by the widget: the conversation's token in the body is the authority
@require_POST
def conversation_transcript(request: HttpRequest) -> HttpResponse:
    """"Download this conversation": body `{"token", "lang"?}`, answered with the conversation's transcript (HTML,
    printable). The token travels in the body, never the URL, so no access log keeps it; every request counts
    against RATE_LIMIT_TRANSCRIPTS_PER_IP, a wrong token too."""
    if refused := _refusal(request, ratelimits.transcript_check):
        return refused
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": ErrorCode.INVALID_JSON, "detail": "the body is not valid JSON"}, status=400)
    token = body.get("token") if isinstance(body, dict) else None
    subject = subject_find(token=token) if isinstance(token, str) else None
    if subject is None or subject.empty:
        return JsonResponse({"error": ErrorCode.UNKNOWN_CONVERSATION, "detail": "no such conversation"}, status=404)
    language = i18n.supported_language(body.get("lang") if isinstance(body.get("lang"), str) else "")
    privacy_request_record(kind=PrivacyRequest.Kind.EXPORT, channel=PrivacyRequest.Channel.WIDGET,
                           looked_up_by="token", value=token, counts={"conversations.conversation": 1})
    response = HttpResponse(transcript_html(subject, language=language), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="conversation.html"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def conversation_transcript_link(request: HttpRequest, signed: str) -> HttpResponse:
    """The transcript an emailed reply links to: the signed conversation id (not its token) proves access to that
    conversation for TRANSCRIPT_LINK_MAX_AGE_DAYS; a forged or expired link is a 404 that says so. Counts against
    RATE_LIMIT_TRANSCRIPTS_PER_IP like the widget's download."""
    try:
        ratelimits.transcript_check(client_ip=request.META.get("REMOTE_ADDR", ""))
    except ratelimits.RateLimited as exc:
        return rate_limited_response(exc)
    conversation_id = transcript_link_open(signed)
    subject = subject_of(conversation_ids=[conversation_id]) if conversation_id is not None else None
    if subject is None or subject.empty:
        return HttpResponse("This link is not valid or has expired.", status=404,
                            content_type="text/plain; charset=utf-8")
    language = i18n.supported_language(request.GET.get("lang", "") or request.LANGUAGE_CODE)
    response = HttpResponse(transcript_html(subject, language=language), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
