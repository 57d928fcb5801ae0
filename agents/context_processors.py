"""What every template may ask about the console: whether the signed-in user may open it (the admin's pages link
back to the console for agents: a curator sent to admin by "Write an article" or "FAQ suggestions" returns from
there). A callable, so the query runs only on a page that asks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import selectors


def console_link(request: HttpRequest) -> dict[str, Any]:
    return {"console_allowed": lambda: selectors.user_is_agent(getattr(request, "user", None))}
