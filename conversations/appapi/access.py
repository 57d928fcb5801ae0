"""What every app request passes after its key: the app's allowed origins and its rate limit."""

from __future__ import annotations

from helpdesk.web import ratelimits
from helpdesk.web.origins import origin_allowed

from ..models import App


class OriginRefused(Exception):
    """A browser page on an origin the app does not list."""


def app_origin_admit(app: App, *, origin: str) -> None:
    """Raises OriginRefused for an Origin the app does not list. Apps without origins take no browser's requests:
    a key in a web page is readable by anyone, so listing its origins is a choice made on purpose. No Origin at
    all (a mobile app, a server) passes."""
    origin = origin.strip().rstrip("/")
    if origin and not origin_allowed(origin, app.origins()):
        raise OriginRefused(f"the origin {origin[:100]} is not among this app's allowed origins")


def app_rate_admit(app: App) -> None:
    """Raises ratelimits.RateLimited once the app has spent its rate limit (all its requests, counted across
    processes in production: helpdesk.web.ratelimits)."""
    try:
        limit = ratelimits.rate(app.rate_limit)
    except ValueError:
        limit = ratelimits.rate("600/minute")
    ratelimits.hit(limit, str(app.pk), what="app_requests")


def app_admit(app: App, *, origin: str) -> None:
    """Both, origin first: a refused origin spends none of the app's limit."""
    app_origin_admit(app, origin=origin)
    app_rate_admit(app)
