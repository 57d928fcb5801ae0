"""`manage.py privacy_export`: everything about one customer, as JSON or a readable HTML transcript.

    manage.py privacy_export --external-id ID | --email ADDRESS | --token TOKEN [--format json|html]
                             [--language en|zh-hans] [--out FILE]

Written to FILE, or to stdout; the export is recorded as a privacy request (channel "command")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from conversations.models import PrivacyRequest
from conversations.privacy.commands import subject_arguments, subject_from_options
from conversations.privacy.export import export_counts, export_json, transcript_html
from conversations.privacy.records import privacy_request_record


class Command(BaseCommand):
    help = "Export everything about one customer (JSON or an HTML transcript)."

    def add_arguments(self, parser: CommandParser) -> None:
        subject_arguments(parser)
        parser.add_argument("--format", choices=("json", "html"), default="json")
        parser.add_argument("--language", default="en", help="the transcript's language (en, zh-hans)")
        parser.add_argument("--out", help="write to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        subject, looked_up_by, value = subject_from_options(options)
        if options["format"] == "json":
            text = export_json(subject)
        else:
            text = transcript_html(subject, language=options["language"])
        privacy_request_record(
            kind=PrivacyRequest.Kind.EXPORT,
            channel=PrivacyRequest.Channel.COMMAND,
            looked_up_by=looked_up_by,
            value=value,
            counts=export_counts(subject),
        )
        if options["out"]:
            Path(options["out"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {options['out']}")
        else:
            self.stdout.write(text)
