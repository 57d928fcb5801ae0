"""Sign-in protections: the lockout after wrong passwords (django-axes) and the optional second factor (TOTP)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

CONSOLE_LOGIN = "/console/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


def agent_create(username: str = "mei") -> Any:
    user = get_user_model().objects.create_user(username, password="right-pw")
    user.groups.add(Group.objects.get_or_create(name="agents")[0])
    return user


def superuser_create(username: str = "boss") -> Any:
    return get_user_model().objects.create_superuser(username, "boss@example.invalid", "right-pw")


def sign_in(client: Any, url: str, username: str, password: str, **extra: Any) -> Any:
    data = {"username": username, "password": password, "next": "/console/" if url == CONSOLE_LOGIN else "/admin/"}
    data.update({k: v for k, v in extra.items() if not k.startswith("HTTP_") and k != "REMOTE_ADDR"})
    return client.post(url, data, **{k: v for k, v in extra.items() if k.startswith("HTTP_") or k == "REMOTE_ADDR"})


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    """The device's current code, as the user's authenticator app shows it (offset: another, wrong one)."""
    value = (totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits) + offset) % 10**device.digits
    return f"{value:0{device.digits}d}"


# --- lockout --------------------------------------------------------------------------------------------------

def test_forty_wrong_passwords_lock_the_console_sign_in(client) -> None:
    agent_create()
    for _ in range(40):
        assert sign_in(client, CONSOLE_LOGIN, "mei", "guess").status_code in (200, 429)
    refused = sign_in(client, CONSOLE_LOGIN, "mei", "right-pw")
    page = refused.content.decode()
    assert refused.status_code == 429
    assert "locked for 15 minutes" in page and "登录已锁定 15 分钟" in page
    assert client.get("/console/").status_code == 302  # not signed in


def test_forty_wrong_passwords_lock_the_admin_sign_in(client) -> None:
    superuser_create()
    for _ in range(40):
        sign_in(client, ADMIN_LOGIN, "boss", "guess")
    refused = sign_in(client, ADMIN_LOGIN, "boss", "right-pw")
    assert refused.status_code == 429 and "Too many sign-in attempts" in refused.content.decode()
    assert client.get("/admin/").status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, settings) -> None:
    agent_create()
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert sign_in(client, CONSOLE_LOGIN, "mei", "guess").status_code == 200
    assert sign_in(client, CONSOLE_LOGIN, "mei", "right-pw").status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_lockout(client, settings) -> None:
    agent_create()
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, CONSOLE_LOGIN, "mei", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    refused = sign_in(client, CONSOLE_LOGIN, "mei", "right-pw", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert refused.status_code == 429


def test_the_lockout_is_per_user_name_and_address(client, settings) -> None:
    agent_create()
    agent_create("ann")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, CONSOLE_LOGIN, "mei", "guess")
    assert sign_in(client, CONSOLE_LOGIN, "ann", "right-pw").status_code == 302  # a colleague at the same desk
    client.logout()
    assert sign_in(client, CONSOLE_LOGIN, "mei", "right-pw", REMOTE_ADDR="10.0.0.2").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, settings) -> None:
    from axes.models import AccessAttempt

    agent_create()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, CONSOLE_LOGIN, "mei", "guess")
    assert sign_in(client, CONSOLE_LOGIN, "mei", "right-pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES + 1))
    assert sign_in(client, CONSOLE_LOGIN, "mei", "right-pw").status_code == 302


# --- the second factor ------------------------------------------------------------------------------------------

@pytest.fixture
def two_factor(settings: Any) -> None:
    settings.REQUIRE_2FA_FOR_STAFF = True


def test_with_2fa_required_the_console_asks_for_the_authenticators_code(client, two_factor) -> None:
    device = TOTPDevice.objects.create(user=agent_create(), name="phone")
    asked = sign_in(client, CONSOLE_LOGIN, "mei", "right-pw")
    assert asked.status_code == 200 and 'name="otp_token"' in asked.content.decode()
    assert "Enter the 6-digit code" in asked.content.decode() and "请输入身份验证器" in asked.content.decode()
    assert client.get("/console/").status_code == 302
    signed_in = sign_in(client, CONSOLE_LOGIN, "mei", "right-pw", otp_token=code_for(device))
    assert signed_in.status_code == 302 and signed_in.url == "/console/"
    assert client.get("/console/").status_code == 200


def test_with_2fa_required_a_wrong_code_is_refused(client, two_factor) -> None:
    device = TOTPDevice.objects.create(user=agent_create(), name="phone", tolerance=0)
    refused = sign_in(client, CONSOLE_LOGIN, "mei", "right-pw", otp_token=code_for(device, offset=1))
    assert refused.status_code == 200 and "The code is wrong" in refused.content.decode()
    assert client.get("/console/").status_code == 302


def test_with_2fa_required_an_agent_without_a_device_is_told_to_ask_for_one(client, two_factor) -> None:
    agent_create()
    refused = sign_in(client, CONSOLE_LOGIN, "mei", "right-pw", otp_token="123456")
    assert refused.status_code == 200 and "ask an administrator to add one" in refused.content.decode()
    assert client.get("/console/").status_code == 302


def test_with_2fa_required_a_password_only_session_is_sent_back_to_sign_in(client, two_factor) -> None:
    client.force_login(agent_create())  # e.g. signed in before the setting was turned on
    response = client.get("/console/")
    assert response.status_code == 302 and response.url.startswith(CONSOLE_LOGIN)


def test_with_2fa_required_the_admin_asks_for_the_code(client, two_factor) -> None:
    device = TOTPDevice.objects.create(user=superuser_create(), name="phone")
    client.force_login(device.user)
    assert client.get("/admin/").status_code == 302  # a password-only session is not enough
    client.logout()
    asked = sign_in(client, ADMIN_LOGIN, "boss", "right-pw")
    assert asked.status_code == 200 and 'name="otp_token"' in asked.content.decode()
    signed_in = sign_in(client, ADMIN_LOGIN, "boss", "right-pw", otp_token=code_for(device))
    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_without_2fa_required_the_password_is_enough(client) -> None:
    superuser_create()
    assert sign_in(client, ADMIN_LOGIN, "boss", "right-pw").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_totp_device_command_gives_a_working_device(capsys) -> None:
    from django.core.management import call_command

    user = agent_create()
    call_command("totp_device_add", "mei")
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and "otpauth://totp/" in capsys.readouterr().out
    assert device.verify_token(code_for(device))
