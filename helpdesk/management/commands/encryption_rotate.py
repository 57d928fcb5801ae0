"""`manage.py encryption_rotate`: re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS.

The step of a key rotation between "new key first, old key kept" and "old key dropped" (README: Encryption at
rest). Also encrypts values stored in clear (written before encryption, or while ENCRYPT_MESSAGES was off),
writes message text back in clear when ENCRYPT_MESSAGES is off, and recomputes the look-up hashes and search
index (so it is also how LOOKUP_HASH_KEY is changed). Idempotent and resumable: rows already right are skipped.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.encrypted_fields import EncryptedTextField, model_reencrypt
from helpdesk.encryption import DecryptionFailed


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the first FIELD_ENCRYPTION_KEYS key, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        models = [m for m in apps.get_models() if any(isinstance(f, EncryptedTextField) for f in m._meta.fields)]
        total = 0
        for model in models:
            try:
                total += model_reencrypt(model, batch_size=batch_size, progress=self.stdout.write)
            except DecryptionFailed as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows rewritten under the first key."))
