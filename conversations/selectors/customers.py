"""Finding a customer record while its contact fields are encrypted at rest: by the keyed hashes stored beside
them (helpdesk.encrypted_fields.LookupHashField), the only way SQL can compare an encrypted value."""

from __future__ import annotations

from ..models import Customer


def customer_hash(field: str, value: str) -> str:
    """The hash column's value for a plain `external_id` or `email` (normalised as the column is)."""
    return Customer._meta.get_field(f"{field}_hash").hash_of(value)


def customer_find(*, external_id: str | None = None, email: str | None = None) -> list[Customer]:
    """The customers with this external id (at most one: its hash is unique) or this email (case aside); both
    given: either. An empty or missing value finds nothing, so blank emails never match each other."""
    hashes = {
        f"{field}_hash__in": [customer_hash(field, value)]
        for field, value in (("external_id", external_id), ("email", email))
        if value and value.strip()
    }
    if not hashes:
        return []
    found: dict[int, Customer] = {}
    for lookup, values in hashes.items():
        found.update({customer.pk: customer for customer in Customer.objects.filter(**{lookup: values})})
    return sorted(found.values(), key=lambda customer: customer.pk)
