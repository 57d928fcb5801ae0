"""`manage.py load_demo_action [--base-url http://127.0.0.1:8000]`: the demo shop's order look-up action
(conversations.actions.demo), pointing at the demo page's own order API."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from conversations.actions.demo import demo_action_ensure


class Command(BaseCommand):
    help = "Create or update the demo shop's order look-up action."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="where the demo shop is served (the action's fixed host)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = demo_action_ensure(base_url=options["base_url"])
        if options["verbosity"]:
            self.stdout.write(f"demo action {action.name} calls {action.base_url}")
