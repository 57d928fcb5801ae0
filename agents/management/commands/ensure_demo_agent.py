"""Create a demo agent account and a few canned responses on a development machine, printing the password once."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from agents.models import CannedResponse
from agents.selectors import AGENTS_GROUP

DEMO_CANNED = [
    ("hello", "Greeting", "en", "Hi, I'm here to help. Let me look into this for you."),
    ("thanks", "Closing", "en", "Thanks for your patience! Is there anything else I can help with?"),
    ("nihao", "问候", "zh-hans", "您好，我是客服，很高兴为您服务，我来帮您查一下。"),
    ("xiexie", "结束语", "zh-hans", "感谢您的耐心等待！还有其他可以帮您的吗？"),
]


class Command(BaseCommand):
    help = "Create the demo agent 'agent' (development only, password printed once) and demo canned responses."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            return
        group, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
        for shortcut, title, language, body in DEMO_CANNED:
            CannedResponse.objects.get_or_create(
                shortcut=shortcut, defaults={"title": title, "language": language, "body": body}
            )
        users = get_user_model()
        if users.objects.filter(groups=group).exists():
            return
        password = secrets.token_urlsafe(12)
        agent = users.objects.create_user(username="agent", password=password, first_name="Mei",
                                          email="agent@example.invalid")
        agent.groups.add(group)
        self.stdout.write(
            self.style.WARNING(
                "\n  Demo agent account (development only, shown this once):\n"
                f"    user: agent    password: {password}\n"
                "    http://127.0.0.1:8000/console/\n"
            )
        )
