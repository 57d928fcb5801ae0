"""When no database connection can be had in time: "busy, retry shortly" instead of a 500.

Every process's pool has a maximum (helpdesk.runtime.dbbudget); when all of its
connections are in use, or PostgreSQL refuses a new one (the server or the
role at its limit), a request waits up to DATABASE_POOL_TIMEOUT_S for one.
Past that, nothing was written: the widget's endpoints answer 503 with
Retry-After and the widget tries again, and the chat socket sends an error
frame "busy" and the widget resends the message (same client_id: stored once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

# SQLSTATE 53300 too_many_connections; 57P03 cannot_connect_now (starting up, shutting down).
_BUSY_SQLSTATES = {"53300", "57P03"}
_BUSY_WORDS = ("too many clients", "too many connections", "remaining connection slots are reserved",
               "couldn't get a connection after")

BUSY_DETAIL = "the service is busy; retry shortly"

logger = logging.getLogger(__name__)


def database_busy(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) means no database connection could be had in time."""
    from psycopg_pool import PoolTimeout

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PoolTimeout):
            return True
        if getattr(current, "sqlstate", None) in _BUSY_SQLSTATES:
            return True
        if type(current).__name__ == "OperationalError" and any(w in str(current) for w in _BUSY_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


def database_unavailable(exc: BaseException) -> bool:
    """Busy, or the database could not carry out the statement at all: the connection was lost or refused (a
    restart, a failover), the server is shutting down, the disk is full, the database is read-only. Nothing was
    written (the transaction rolled back), so the client is told to retry exactly as when busy, and the widget
    resends what it holds (same client_id: stored once). Errors of the statement itself (integrity, a bad query)
    are not this: they are bugs, and raise."""
    if database_busy(exc):
        return True
    from django.db import InterfaceError, OperationalError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            return True
        current = current.__cause__ or current.__context__
    return False


def unavailable_record(exc: BaseException, where: str) -> None:
    """Counted as busy (`helpdesk_database_busy_total{where}`); a database that failed outright (not merely
    short of connections) is also logged for the operator: the kind of failure, never the statement or its
    values."""
    from helpdesk.observability.metrics import database_busy_count

    if not database_busy(exc):
        first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        logger.error("database unavailable (%s): %s: %s", where, type(exc).__name__, first_line)
    database_busy_count(where)


def busy_response() -> JsonResponse:
    response = JsonResponse({"error": "busy", "detail": BUSY_DETAIL}, status=503)
    response["Retry-After"] = str(settings.DATABASE_BUSY_RETRY_AFTER_S)
    return response


class DatabaseBusyMiddleware:
    """A view that could not get a connection in time answers 503 + Retry-After, not 500.

    Last in MIDDLEWARE, so that the response still passes the CORS middleware
    (a cross-origin widget can read the 503 and its Retry-After).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            unavailable_record(exception, "http")
            return busy_response()
        return None
