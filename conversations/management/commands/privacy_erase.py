"""`manage.py privacy_erase`: erase everything about one customer.

    manage.py privacy_erase --external-id ID | --email ADDRESS | --token TOKEN [--dry-run] [--yes]

Prints what will be erased; --dry-run stops there, --yes skips the question. The erasure is recorded as a
privacy request (channel "command") naming no one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.models import PrivacyRequest
from conversations.privacy.commands import subject_arguments, subject_from_options
from conversations.privacy.erasure import erasure_plan, subject_erase


class Command(BaseCommand):
    help = "Erase everything about one customer: conversations, messages, contact record, cached answers."

    def add_arguments(self, parser: CommandParser) -> None:
        subject_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="only say what would be erased")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        subject, looked_up_by, value = subject_from_options(options)
        plan = erasure_plan(subject)
        for line in plan.lines():
            self.stdout.write(f"{line['label']}: {line['count']} ({line['erase']})")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing erased.")
            return
        if not options["yes"] and input("Erase all of this? Type 'yes': ").strip().lower() != "yes":
            raise CommandError("not confirmed: nothing erased")
        record = subject_erase(subject, channel=PrivacyRequest.Channel.COMMAND, looked_up_by=looked_up_by, value=value)
        self.stdout.write(f"Erased; privacy request {record.pk}: {record.counts}")
