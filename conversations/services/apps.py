"""Apps of the HTTP API (models.App): made with a key shown once, found by the key's digest, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import App

KEY_PREFIX = "hdk_"
# last_used_at is written at most this often per app: a busy app would otherwise write a row per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def app_create(*, name: str, allowed_origins: str = "", rate_limit: str = "") -> tuple[App, str]:
    """A new app and its key: the key is returned here and never again (only its digest is stored)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    app = App.objects.create(
        name=name, key_prefix=key[:12], key_hash=key_digest(key), allowed_origins=allowed_origins,
        rate_limit=rate_limit or settings.APP_API_DEFAULT_RATE_LIMIT,
    )
    return app, key


def app_key_set(app: App) -> str:
    """A new key for an app made in admin (or a lost one replaced): the old key stops working at once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    app.key_prefix, app.key_hash = key[:12], key_digest(key)
    if app.pk:
        App.objects.filter(pk=app.pk).update(key_prefix=app.key_prefix, key_hash=app.key_hash)
    return key


def app_revoke(app: App) -> None:
    App.objects.filter(pk=app.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def app_authenticate(key: str) -> App | None:
    """The app whose key this is, unless revoked; None either way, so the answer gives no hint which."""
    if not key or len(key) > 200:
        return None
    app = App.objects.filter(key_hash=key_digest(key), revoked_at__isnull=True).first()
    if app is None:
        return None
    now = timezone.now()
    if app.last_used_at is None or now - app.last_used_at >= LAST_USED_RESOLUTION:
        App.objects.filter(pk=app.pk).update(last_used_at=now)
        app.last_used_at = now
    return app
