"""Create the demo admin account on a development machine, printing its password once."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a demo superuser 'admin' with a random password (development only, printed once)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            return
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username="admin", email="admin@example.invalid", password=password)
        self.stdout.write(
            self.style.WARNING(
                "\n  Demo admin account (development only, shown this once):\n"
                f"    user: admin    password: {password}\n"
                "    http://127.0.0.1:8000/admin/\n"
            )
        )
