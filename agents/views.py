"""The console page: for agents only (staff, or the `agents` group); everything live runs over /ws/console/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


@login_required(login_url="/console/login/")
def console(request: HttpRequest) -> HttpResponse:
    if not selectors.user_is_agent(request.user):
        raise PermissionDenied("The console is for agents: ask an administrator to add you to the agents group.")
    return render(request, "agents/console.html", {"agent_name": request.user.get_username()})
