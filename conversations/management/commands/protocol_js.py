"""Write the protocol's codes into the widget and the console (conversations/protocol/javascript.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.protocol.javascript import EXPORTS, js_update


class Command(BaseCommand):
    help = "Write the error, close and handoff-reason codes into static/widget.js and static/console.js."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is stale")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        stale = []
        for script in EXPORTS:
            path = Path(settings.BASE_DIR) / "static" / script
            source = path.read_text(encoding="utf-8")
            try:
                updated = js_update(script, source)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            if updated == source:
                continue
            stale.append(script)
            if not check:
                path.write_text(updated, encoding="utf-8")
        if check and stale:
            raise CommandError(f"stale protocol codes in {', '.join(stale)}: run `manage.py protocol_js`")
        self.stdout.write(f"written: {', '.join(stale)}" if stale else "up to date")
