"""What the two privacy commands share: the subject's keys on the command line, and finding the subject."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from helpdesk.privacy import DataSubject

from .subjects import lookup_described, subject_find


def subject_arguments(parser: CommandParser) -> None:
    parser.add_argument("--external-id", help="the customer's verified id on the host site")
    parser.add_argument("--email", help="the customer's email, or the contact email left in a conversation")
    parser.add_argument("--token", help="one conversation's token (that conversation only)")


def subject_from_options(options: dict[str, Any]) -> tuple[DataSubject, str, str]:
    """(the subject, what it was looked up by, the value); a clear error when no key is given or nothing matches."""
    keys = {"external_id": options.get("external_id"), "email": options.get("email"), "token": options.get("token")}
    if not any(value and value.strip() for value in keys.values()):
        raise CommandError("give --external-id, --email or --token")
    subject = subject_find(**keys)
    if subject.empty:
        raise CommandError("no customer or conversation matches")
    return subject, *lookup_described(**keys)
