"""Model fields that keep personal data encrypted at rest, and the keyed hashes beside them (helpdesk.encryption).

A thin field on cryptography's MultiFernet rather than django-fernet-encrypted-fields: that package derives its
keys from SECRET_KEY and SALT_KEY (so rotating SECRET_KEY would rotate the data keys, and keys cannot come from
the environment as Fernet keys), and answers a value it cannot decrypt with the ciphertext instead of an error.

Everything read through the ORM is plain text (from_db_value); what the database holds is PREFIX + a Fernet token.
Look-ups on an encrypted column cannot work in SQL (each encryption differs), so they are refused with a pointer
to what does: the hash column for exact look-ups, the search index for text search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, IsNull

from . import encryption


class _EmptyOnlyExact(Exact):
    """`field=""` works (the empty text is stored empty); any other value would never match a ciphertext."""

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        if value != "":
            raise FieldError(
                f"{self.lhs.target.model.__name__}.{self.lhs.target.name} is encrypted: it can be compared only "
                "with '' in SQL; look it up by its hash column (e.g. conversations.selectors.customer_find)"
            )
        return super().get_db_prep_lookup(value, connection)


class EncryptedTextField(models.TextField):
    """Text stored encrypted (helpdesk.encryption.encrypt), read as plain text.

    `setting` names a boolean setting that switches encryption of this column (ENCRYPT_MESSAGES); with it off,
    new values are stored in clear unless they look encrypted (then encrypted anyway, so reading is never
    ambiguous). Old plain values are read as they are either way. `max_length` is checked on the plain text."""

    def __init__(self, *args: Any, setting: str = "", **kwargs: Any) -> None:
        self.setting = setting
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        if self.setting:
            kwargs["setting"] = self.setting
        return name, path, args, kwargs

    @property
    def encrypting(self) -> bool:
        return not self.setting or bool(getattr(settings, self.setting))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: SQL cannot {lookup_name} it (search it with "
            "conversations.selectors.message_ids_matching, look it up by its hash column)"
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: SQL functions cannot read it")

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return value
        return encryption.decrypt(value, where=f"a value of {self.model.__name__}.{self.name}")

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if self.encrypting or encryption.is_encrypted(value):
            return encryption.encrypt(value)
        return value


class LookupHashField(models.CharField):
    """The keyed hash (helpdesk.encryption.lookup_hash) of another field's plain value, filled on save: what
    exact look-ups and uniqueness use instead of the encrypted column. queryset.update() bypasses save, so a
    service updating the source updates this too (the `hashed` helper)."""

    def __init__(self, *args: Any, source: str = "", normalise: str = "", **kwargs: Any) -> None:
        self.source, self.normalise = source, normalise
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, normalise=self.normalise)
        kwargs.pop("editable", None)
        if kwargs.get("max_length") == 64:
            kwargs.pop("max_length")
        return name, path, args, kwargs

    def hash_of(self, plain: str) -> str:
        return lookup_hash_for(plain, normalise=self.normalise, purpose=f"{self.model._meta.label_lower}.{self.source}")

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.hash_of(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


def lookup_hash_for(plain: str, *, normalise: str, purpose: str) -> str:
    if normalise == "email":
        plain = encryption.email_normalise(plain)
    return encryption.lookup_hash(plain.strip(), purpose=purpose)


class SearchIndexField(models.TextField):
    """The keyed search tokens of another field's text (helpdesk.encryption.search_index), filled on save while
    that field is encrypted; empty while it is stored in clear (then SQL searches the text itself)."""

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("blank", "default", "editable"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def index_of(self, plain: str) -> str:
        source = self.model._meta.get_field(self.source)
        return encryption.search_index(plain) if source.encrypting else ""

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.index_of(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


def derived_columns(model: type[models.Model], changes: dict[str, str]) -> dict[str, str]:
    """`changes` to plain fields of `model` plus the hash and index columns derived from them, for a
    queryset.update() (which skips the fields' pre_save)."""
    derived = dict(changes)
    for field in model._meta.concrete_fields:
        if isinstance(field, LookupHashField) and field.source in changes:
            derived[field.attname] = field.hash_of(changes[field.source] or "")
        elif isinstance(field, SearchIndexField) and field.source in changes:
            derived[field.attname] = field.index_of(changes[field.source] or "")
    return derived


def model_reencrypt(
    model: type[models.Model],
    *,
    batch_size: int = 500,
    progress: Callable[[str], None] | None = None,
    clear: bool = False,
) -> int:
    """Bring every row of `model` to what the settings say: encrypted values under the first key (plain ones
    encrypted, a column whose setting is off written in clear), hashes and search index recomputed. Reads the raw
    columns, so rows already right are skipped: rerunning after an interruption only does what is left. Returns
    how many rows it rewrote. Works on historical models too (the data migration uses it). `clear` writes every
    encrypted column back in clear instead (undoing the migration) and leaves the derived columns alone."""
    encrypted = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    derived = [f for f in model._meta.concrete_fields if isinstance(f, (LookupHashField, SearchIndexField))]
    derived = [] if clear else derived
    if not encrypted:
        return 0
    columns = ["pk", *(f.attname for f in encrypted + derived)]
    raw_fields = {f.attname: Value("", output_field=models.TextField()) for f in encrypted}
    total, changed, last_pk = model._default_manager.count(), 0, None
    done = 0
    while True:
        rows = model._default_manager.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(_raw_rows(rows, encrypted, columns, batch_size))
        if not batch:
            break
        with transaction.atomic():
            for row in batch:
                updates = _row_updates(model, row, encrypted, derived, clear=clear)
                if updates:
                    model._default_manager.filter(pk=row["pk"]).update(
                        **{
                            k: Value(v, output_field=models.TextField()) if k in raw_fields else v
                            for k, v in updates.items()
                        }
                    )
                    changed += 1
        done += len(batch)
        last_pk = batch[-1]["pk"]
        if progress:
            progress(f"{model._meta.label}: {done}/{total} rows checked, {changed} rewritten (last id {last_pk})")
    return changed


def _raw_rows(rows: models.QuerySet, encrypted: list[Any], columns: list[str], limit: int) -> Iterable[dict]:
    """The rows' stored values, undecrypted (a TextField view of each encrypted column)."""
    raw = {f"raw_{f.attname}": Cast(f.attname, output_field=models.TextField()) for f in encrypted}
    names = [c for c in columns if c not in {f.attname for f in encrypted}]
    for row in rows.annotate(**raw).values(*names, *raw)[:limit]:
        yield {**row, **{f.attname: row.pop(f"raw_{f.attname}") for f in encrypted}}


def _row_updates(
    model: type[models.Model], row: dict, encrypted: list[Any], derived: list[Any], *, clear: bool
) -> dict[str, str]:
    plain, updates = {}, {}
    for field in encrypted:
        stored = row[field.attname] or ""
        where = f"{model._meta.db_table}.{field.column} (id {row['pk']})"
        plain[field.name] = encryption.decrypt(stored, where=where)
        wanted_encrypted = field.encrypting and plain[field.name] != "" and not clear
        if encryption.is_encrypted(stored):
            keep = wanted_encrypted and encryption.under_first_key(stored)
        else:
            keep = not wanted_encrypted
        if not keep:
            updates[field.attname] = encryption.encrypt(plain[field.name]) if wanted_encrypted else plain[field.name]
    for field in derived:
        source_plain = plain.get(field.source, "")
        value = field.hash_of(source_plain) if isinstance(field, LookupHashField) else field.index_of(source_plain)
        if (row[field.attname] or "") != value and not (value == "" and row[field.attname] is None):
            updates[field.attname] = value
    return updates
