"""The console page: agents only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from agents.tests.test_console import agent_create

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_console_sign_in(client) -> None:
    response = client.get("/console/")
    assert response.status_code == 302 and response.url == "/console/login/?next=/console/"
    assert client.get("/console/login/").status_code == 200


def test_signed_in_customers_accounts_are_refused(client) -> None:
    client.force_login(get_user_model().objects.create_user("shopper"))
    assert client.get("/console/").status_code == 403


def test_an_agent_who_is_not_staff_can_sign_in_and_open_the_console(client) -> None:
    agent_create("mei")
    response = client.post("/console/login/", {"username": "mei", "password": "pw", "next": "/console/"})
    assert response.status_code == 302 and response.url == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200 and b"console.js" in page.content


def test_demo_agent_is_created_once_with_canned_responses(capsys, settings) -> None:
    from django.core.management import call_command

    from agents.models import CannedResponse

    settings.DEBUG = True  # development only: nothing is created in production
    call_command("ensure_demo_agent")
    call_command("ensure_demo_agent")
    out = capsys.readouterr().out
    assert out.count("Demo agent account") == 1 and "user: agent" in out
    assert CannedResponse.objects.filter(shortcut="nihao").exists()
