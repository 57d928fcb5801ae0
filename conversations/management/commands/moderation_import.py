"""Import moderation terms from a CSV file (columns: text, category, kind, languages, pattern, note; a header
row) or a plain text file (one term per line, `#` comments; --category, --kind and --languages apply to all)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.services.moderation import terms_import


class Command(BaseCommand):
    help = "Import moderation terms from a CSV or TXT file (updates terms already listed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--category", default="other", help="for a TXT file: the terms' category")
        parser.add_argument("--kind", default="blocked", help="for a TXT file: blocked or sensitive")
        parser.add_argument("--languages", default="", help="for a TXT file: e.g. en,zh-hans (empty: all)")

    def handle(self, *args: Any, path: Path, category: str, kind: str, languages: str, **options: Any) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        if path.suffix.lower() == ".csv":
            rows = list(csv.DictReader(text.splitlines()))
        else:
            rows = [
                {"text": line.strip(), "category": category, "kind": kind, "languages": languages}
                for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        try:
            added, updated = terms_import(rows)
        except ValueError as exc:
            raise CommandError(f"nothing imported: {exc}") from None
        self.stdout.write(f"{added} term(s) added, {updated} updated.")
