"""One call of an action on the company's system, bounded every way a broken or hostile endpoint could hurt:
the host is the admin's (the model's arguments are URL-encoded into the path and query, never the host), no
redirect is followed, the answer is read up to ACTION_MAX_RESPONSE_BYTES and within the action's timeout as a
whole (not per read), and anything but a 2xx JSON answer is a failure with a clear reason."""

from __future__ import annotations

import json
import string
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings

from ..models import Action


class ActionConfigError(ValueError):
    """The action's URL template cannot be filled (a placeholder that is not a parameter, a path that does not
    start with /): the admin must fix it."""


@dataclass
class CallResult:
    ok: bool
    status: int | None = None
    data: Any = None
    error: str = ""
    duration_ms: float = 0.0


def header_lines(text: str) -> dict[str, str]:
    """The action's headers from their "Name: value" lines (blank lines and lines without a colon skipped)."""
    headers = {}
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip()] = value.strip()
    return headers


def action_url(action: Action, arguments: dict[str, Any], *, customer_id: str) -> str:
    """The URL to call: the admin's scheme and host, the path template with every value URL-encoded (a value
    cannot add a path segment, a query parameter or another host); a parameter not given is empty."""
    path = action.path_template.strip()
    if not path.startswith("/"):
        raise ActionConfigError(f"the path template of {action.name} must start with /")
    values = {name: quote(str(value), safe="") for name, value in arguments.items()}
    values["customer_id"] = quote(customer_id, safe="")
    declared = set(action.parameters.get("properties", {})) | {"customer_id"}
    filled = []
    for literal, field, spec, conversion in string.Formatter().parse(path):
        filled.append(literal)
        if field is None:
            continue
        if field not in declared or spec or conversion:
            raise ActionConfigError(f"{{{field}}} in the path template of {action.name} is not one of its parameters")
        filled.append(values.get(field, ""))
    base = urlsplit(action.base_url)
    url = f"{base.scheme}://{base.netloc}{''.join(filled)}"
    if urlsplit(url).netloc != base.netloc:  # cannot happen with encoded values; checked all the same
        raise ActionConfigError(f"the URL of {action.name} leaves its host")
    return url


def action_call_http(action: Action, arguments: dict[str, Any], *, customer_id: str) -> CallResult:
    """Call the action and read its JSON answer, or say why not (never raises for what the endpoint does)."""
    started = time.monotonic()
    try:
        url = action_url(action, arguments, customer_id=customer_id)
    except ActionConfigError as exc:
        return CallResult(ok=False, error=str(exc))
    timeout = max(0.1, min(action.timeout_s, settings.ACTION_TIMEOUT_MAX_S))
    deadline = started + timeout
    limit = settings.ACTION_MAX_RESPONSE_BYTES
    body = {**arguments, "customer_id": customer_id} if action.method == Action.Method.POST else None
    status = None
    try:
        with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False) as client, \
                client.stream(action.method, url, headers=header_lines(action.headers), json=body) as response:
            status = response.status_code
            if response.is_redirect:
                where = response.headers.get("location", "")
                return _failed(started, status, f"answered {status}, a redirect to {where[:200]!r}: not followed")
            if not response.is_success:
                return _failed(started, status, f"answered {status}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    return _failed(started, status, f"answer larger than {limit} bytes (ACTION_MAX_RESPONSE_BYTES)")
                if time.monotonic() > deadline:
                    return _failed(started, status, f"no whole answer within {timeout:g} s")
                chunks.append(chunk)
    except httpx.TimeoutException:
        return _failed(started, status, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return _failed(started, status, f"could not be reached ({type(exc).__name__}: {exc})"[:300])
    try:
        data = json.loads(b"".join(chunks))
    except ValueError:
        return _failed(started, status, "answered something that is not JSON")
    return CallResult(ok=True, status=status, data=data, duration_ms=_ms(started))


def _failed(started: float, status: int | None, error: str) -> CallResult:
    return CallResult(ok=False, status=status, error=error, duration_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
