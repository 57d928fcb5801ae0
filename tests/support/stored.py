"""Reading what a test server stored, past encryption at rest: the server runs with this process's keys (the
environment tests/settings.py fills in), so a value it encrypted is decrypted here the same way."""

from __future__ import annotations

from typing import Any

from helpdesk.encryption import decrypt


def plain(value: Any) -> Any:
    """A stored value as text: decrypted when encrypted, anything else as it is."""
    return decrypt(value) if isinstance(value, str) else value


def plain_rows(rows: list[tuple]) -> list[tuple]:
    return [tuple(plain(value) for value in row) for row in rows]
