"""The `Helpdesk-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>`.

The timestamp is inside what is signed, so a captured request cannot be replayed later than the receiver's
tolerance; the same scheme as Stripe's, so receivers know how to check it (README: Webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Helpdesk-Signature"


class SignatureInvalid(Exception):
    """The header is missing, malformed, too old, or signed with another secret."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def signature_verify(secret: str, header: str, body: bytes, *, tolerance_s: int = 300,
                     now: float | None = None) -> int:
    """Check a received header against the raw body; returns its timestamp, or raises SignatureInvalid."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureInvalid("no timestamp in the signature header") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        raise SignatureInvalid("the signature's timestamp is outside the tolerance")
    expected = signature(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureInvalid("no v1 signature matches")
    return timestamp
