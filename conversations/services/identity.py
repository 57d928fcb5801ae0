"""Who the customer is: the host site's signed identity, and the conversation it opens."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from typing import Any

from django.conf import settings
from django.db import transaction

from helpdesk.encrypted_fields import derived_columns
from helpdesk.llm import profiles

from ..models import Conversation, Customer, WebhookEvent, new_conversation_token
from ..models.chat import WEB_CHANNEL
from ..protocol.codes import ErrorCode, FrameError
from ..selectors.customers import customer_hash
from ..webhooks.emit import webhook_on_commit


class IdentityRefused(FrameError):
    """The host site's identity for the customer is missing (when required) or not signed right."""


def identity_hash(*, user_id: str, name: str = "", email: str = "", ts: int) -> str:
    """What the host site computes on its server when it renders the page, in hex:
    HMAC-SHA256(WIDGET_IDENTITY_SECRET, f"{id}\\n{name}\\n{email}\\n{ts}"), `ts` in Unix seconds and absent
    fields as "". Signing the name, the email and the time means a hash seen once can neither be replayed later
    (past WIDGET_IDENTITY_MAX_AGE_S) nor with another email or name for the same user."""
    message = f"{user_id}\n{name}\n{email}\n{ts}"
    return hmac.new(settings.WIDGET_IDENTITY_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def identity_hash_legacy(user_id: str) -> str:
    """The first scheme, the id alone: accepted only with WIDGET_IDENTITY_ACCEPT_LEGACY_HASH, and then the
    name and email that come with it are not stored (nothing signs them)."""
    return hmac.new(settings.WIDGET_IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()


IDENTITY_RECIPE = 'sign id, name, email and ts: HMAC-SHA256(secret, id + "\\n" + name + "\\n" + email + "\\n" + ts)'


def _identity_verify(user: Any) -> tuple[str, str, str]:
    """The (id, name, email) the host site signed; raises IdentityRefused with what is wrong and how to fix it."""
    if not isinstance(user, dict) or not isinstance(user.get("id"), (str, int)) or isinstance(user.get("id"), bool):
        raise IdentityRefused(ErrorCode.IDENTITY_INVALID, "user must be an object with an id, a ts and a hash")
    user_id = str(user["id"])
    fields = {"name": user.get("name"), "email": user.get("email")}
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        raise IdentityRefused(ErrorCode.IDENTITY_INVALID, "user.name and user.email must be strings")
    name, email = fields["name"] or "", fields["email"] or ""
    if not user_id.strip() or len(user_id) > 255 or any("\n" in value for value in (user_id, name, email)):
        raise IdentityRefused(
            ErrorCode.IDENTITY_INVALID, "user.id must be 1 to 255 characters; no field may hold a newline"
        )
    given = user.get("hash")
    if not settings.WIDGET_IDENTITY_SECRET:
        raise IdentityRefused(
            ErrorCode.IDENTITY_NOT_CONFIGURED, "identity verification is not configured on this server"
        )
    given = given.strip().lower() if isinstance(given, str) and given.isascii() else ""  # compare_digest: ASCII only
    ts = user.get("ts")
    if isinstance(ts, str) and ts.isascii() and ts.isdigit():
        ts = int(ts)
    if not isinstance(ts, int) or isinstance(ts, bool):
        if settings.WIDGET_IDENTITY_ACCEPT_LEGACY_HASH and hmac.compare_digest(identity_hash_legacy(user_id), given):
            return user_id.strip(), "", ""
        problem = "is missing" if ts is None else "must be whole Unix seconds"
        raise IdentityRefused(
            ErrorCode.IDENTITY_REFUSED, f"user.ts {problem}: the identity hash must {IDENTITY_RECIPE}"
        )
    if not hmac.compare_digest(identity_hash(user_id=user_id, name=name, email=email, ts=ts), given):
        raise IdentityRefused(ErrorCode.IDENTITY_REFUSED, f"the user's hash does not match: {IDENTITY_RECIPE}")
    age = int(time.time()) - ts
    if age > settings.WIDGET_IDENTITY_MAX_AGE_S:
        raise IdentityRefused(
            ErrorCode.IDENTITY_EXPIRED,
            f"the identity was signed {age} s ago; the limit is {settings.WIDGET_IDENTITY_MAX_AGE_S} s "
            "(WIDGET_IDENTITY_MAX_AGE_S): sign it when rendering the page, or pass a fresh one to Helpdesk.setUser",
        )
    if -age > settings.WIDGET_IDENTITY_CLOCK_SKEW_S:
        raise IdentityRefused(
            ErrorCode.IDENTITY_EXPIRED,
            f"user.ts is {-age} s in the future (more than WIDGET_IDENTITY_CLOCK_SKEW_S = "
            f"{settings.WIDGET_IDENTITY_CLOCK_SKEW_S} s): check the host server's clock",
        )
    return user_id.strip(), name, email


# Bounds of `helpdeskSettings.user.attributes`: how many, the keys' form, a string value's length.
ATTRIBUTES_MAX = 20
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_.-]{1,40}")
ATTRIBUTE_VALUE_MAX_CHARS = 200


def customer_attributes(user: Any) -> dict[str, str | int | float | bool] | None:
    """The page's `attributes` object, bounded: None when it sent none (the stored ones stay), else at most
    ATTRIBUTES_MAX entries whose key matches ATTRIBUTE_KEY and whose value is a string (cut to
    ATTRIBUTE_VALUE_MAX_CHARS), a finite number or a boolean; anything else is dropped, never refused: the
    identity is signed, these are not, and a page's extra detail should not cost the customer their chat."""
    attributes = user.get("attributes") if isinstance(user, dict) else None
    if not isinstance(attributes, dict):
        return None
    kept: dict[str, str | int | float | bool] = {}
    for key, value in attributes.items():
        if len(kept) == ATTRIBUTES_MAX:
            break
        if not isinstance(key, str) or not ATTRIBUTE_KEY.fullmatch(key):
            continue
        if isinstance(value, str):
            kept[key] = value[:ATTRIBUTE_VALUE_MAX_CHARS]
        elif isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)):
            kept[key] = value
    return kept


def conversation_create(*, user: Any = None, channel: str = WEB_CHANNEL) -> Conversation:
    """A new conversation, or for a verified customer their latest one, so it follows them across devices.

    `user` is the widget's `{id, name?, email?, ts, hash}` (see identity_hash). Without one, the conversation is
    bound to the browser that keeps its token (refused when ENFORCE_IDENTITY is on). Only a signed name and
    email are stored; `user.attributes` (customer_attributes) are stored as sent, unsigned, and shown as
    unverified. `channel` marks where a new conversation comes from (the widget, or an app); a verified
    customer's latest conversation keeps the channel it started on.
    """
    if user is None:
        if settings.ENFORCE_IDENTITY:
            raise IdentityRefused(
                ErrorCode.IDENTITY_REQUIRED, "this site requires a signed-in user (helpdeskSettings.user)"
            )
        return _conversation_new(channel=channel)
    user_id, name, email = _identity_verify(user)
    email = email if len(email) <= 254 else ""
    with transaction.atomic():
        # Found by the keyed hash of the id: the id itself is encrypted at rest (helpdesk.encryption).
        customer, _ = Customer.objects.get_or_create(
            external_id_hash=customer_hash("external_id", user_id), defaults={"external_id": user_id}
        )
        changes = {k: v[:255] for k, v in (("name", name.strip()), ("email", email.strip())) if v and v.strip()}
        attributes = customer_attributes(user)
        if attributes is not None:
            changes["attributes"] = json.dumps(attributes, ensure_ascii=False) if attributes else ""
        if changes:
            Customer.objects.filter(pk=customer.pk).update(**derived_columns(Customer, changes))
        latest = customer.conversations.order_by("-created_at").first()
        return latest or _conversation_new(customer=customer, channel=channel)


def _conversation_new(*, customer: Customer | None = None, channel: str = WEB_CHANNEL) -> Conversation:
    """A conversation with the model profile its token's canary bucket gives it, for its whole life."""
    token = new_conversation_token()
    profile = profiles.profile_for_new_conversation(key=token)
    conversation = Conversation.objects.create(token=token, customer=customer, profile=profile, channel=channel)
    webhook_on_commit(WebhookEvent.CONVERSATION_CREATED, conversation=conversation)
    return conversation

