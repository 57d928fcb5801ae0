"""Sign-in protections shared by the admin and the agents' console.

- Lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address, that
  pair is refused for LOGIN_COOLOFF_MINUTES, whatever password comes next. Attempts are stored in the
  database, so every web process sees the same count.
- A second factor (django-otp, TOTP): with REQUIRE_2FA_FOR_STAFF on, the admin and the console need a code
  from the user's authenticator app at sign-in, and a session verified by one to be used; a user without a
  confirmed device is told to ask an administrator for one (Admin › TOTP devices, or `manage.py
  totp_device_add`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.models import Device

from helpdesk.i18n import in_every_language

# What the sign-in pages say for each refusal, in every language one after the other: the console's sign-in
# page is shown before anyone's language is known.
NO_DEVICE = in_every_language(gettext_noop(
    "Two-factor sign-in is required and your account has no authenticator yet: ask an administrator to add one "
    "(a TOTP device) for you."
))
WRONG_PASSWORD = in_every_language(gettext_noop("The user name or password is wrong."))
ERRORS = {
    "invalid_login": WRONG_PASSWORD,
    "inactive": WRONG_PASSWORD,
    "token_required": in_every_language(gettext_noop("Enter the 6-digit code from your authenticator app.")),
    "invalid_token": in_every_language(gettext_noop("The code is wrong or has expired.")),
    "no_device": NO_DEVICE,
}


def second_factor_required() -> bool:
    return settings.REQUIRE_2FA_FOR_STAFF


class SecondFactorMixin(OTPAuthenticationFormMixin):
    """Asks for the authenticator's code after the password, when REQUIRE_2FA_FOR_STAFF is on.

    The password is checked first (django-axes counts failures there). With no device chosen, the user's
    own confirmed device is used: people have one authenticator, and django-otp alone would first ask them
    to pick it from a list they cannot see before the password is checked.
    """

    otp_error_messages = {**OTPAuthenticationFormMixin.otp_error_messages,
                          "token_required": ERRORS["token_required"], "invalid_token": ERRORS["invalid_token"]}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if second_factor_required():
            self.clean_otp(self.get_user())
        return cleaned

    def _chosen_device(self, user: Any) -> Device | None:
        device = super()._chosen_device(user)
        if device is None:
            device = next(iter(devices_for_user(user, confirmed=True, for_verify=True)), None)
        if device is None:
            raise forms.ValidationError(NO_DEVICE, code="no_device")
        return device


class ConsoleSignInForm(SecondFactorMixin, AuthenticationForm):
    otp_token = forms.CharField(required=False, max_length=16,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class AdminSignInForm(SecondFactorMixin, AdminAuthenticationForm):
    otp_device = forms.CharField(required=False, widget=forms.Select)
    otp_token = forms.CharField(required=False, max_length=16)
    otp_challenge = forms.CharField(required=False)


def sign_in_error(form: forms.Form) -> str:
    """The sign-in page's one line for a refused form (the password's, or the code's)."""
    for error in form.errors.as_data().get("__all__", []):
        return ERRORS.get(error.code or "", " ".join(error.messages))
    return ERRORS["invalid_login"] if form.errors else ""


def session_verified(*, session: Any, user: Any) -> bool:
    """Whether a session was verified by one of the user's confirmed devices (as django-otp's middleware
    sees it), for the websocket, which has the session but not the middleware. Reads the database."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id or user is None:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def request_verified(request: HttpRequest) -> bool:
    """Whether the request's user passes the second-factor requirement (always, when it is off)."""
    if not second_factor_required():
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: a page that says so, and for how long, in both languages."""
    return render(request, "helpdesk/locked_out.html", {"minutes": settings.LOGIN_COOLOFF_MINUTES},
                  status=settings.AXES_HTTP_RESPONSE_CODE)


class HelpdeskAdminSite(AdminSite):
    """The admin, asking for the second factor when REQUIRE_2FA_FOR_STAFF is on (read on each request, so the
    setting applies without a code change): django-otp's OTPAdminSite, switched by the setting."""

    @property
    def login_form(self) -> type[forms.Form]:  # type: ignore[override]
        return AdminSignInForm

    @property
    def login_template(self) -> str | None:  # type: ignore[override]
        return "otp/admin111/login.html" if second_factor_required() else None

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and request_verified(request)
