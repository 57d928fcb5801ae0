"""Give a user an authenticator (a confirmed TOTP device) from the command line, and print its setup link.

For the first administrator when REQUIRE_2FA_FOR_STAFF is turned on (nobody can reach the admin's TOTP device
page without a device yet); everyone else's devices can be added there.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Add a TOTP device to a user and print the otpauth:// link to scan into an authenticator app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator", help="the device's name, shown to its owner")

    def handle(self, *args: object, username: str, name: str, **options: object) -> None:
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        self.stdout.write("Scan this link (as a QR code) or type its secret into an authenticator app; "
                          "it is shown this once:\n")
        self.stdout.write(f"  {device.config_url}\n")
