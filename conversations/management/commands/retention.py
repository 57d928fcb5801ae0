"""`manage.py retention`: what RETENTION_DAYS expires now, and deleting it.

    manage.py retention --dry-run         (the default: per category, how many rows would go and the oldest)
    manage.py retention --apply [--batch-size N]

--apply does what the beat job does (conversations.retention_enforce): the affected days are summarized and
frozen first, then rows are deleted RETENTION_BATCH_SIZE per transaction. It runs even with
RETENTION_ENABLED=false, which only stops the beat job.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.privacy.retention import retention_enforce, retention_plan


class Command(BaseCommand):
    help = "Show (--dry-run) or delete (--apply) the personal data older than its retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="only count what would be deleted (default)")
        mode.add_argument("--apply", action="store_true", help="delete it, in batches")
        parser.add_argument("--batch-size", type=int, default=None, help="rows per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size is the rows deleted per transaction, at least 1")
        plan = retention_plan()
        if not plan:
            self.stdout.write("No retention period is set (RETENTION_DAYS): nothing expires.")
            return
        for row in plan:
            oldest = row.oldest.isoformat(timespec="seconds") if row.oldest else "-"
            self.stdout.write(
                f"{row.category:<14} {row.model:<28} {row.days:>5} days  "
                f"before {row.cutoff:%Y-%m-%d}  {row.count:>9} rows  oldest {oldest}"
            )
        if not options["apply"]:
            self.stdout.write("Dry run: nothing deleted (--apply deletes).")
            return
        report = retention_enforce(batch_size=options["batch_size"])
        for model, count in sorted(report.deleted.items()):
            self.stdout.write(f"deleted {count:>9} {model}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {report.total} rows in {len(report.batch_seconds)} batches; "
                f"{report.summarized_days} day(s) summarized first."
            )
        )
