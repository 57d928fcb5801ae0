"""Where personal data lives, registered by the app that owns it, so a customer's rights can be served across
every app without the core knowing any of them.

Each app registers, in its `AppConfig.ready()`, every model whose rows can be traced to a customer (a
`PersonalDataHolder`: how a row leads to a conversation or a customer, how it is erased, when it expires) and
every store outside the database that keeps something derived from a customer (a `PersonalDataStore`: the
answer cache, Redis keys). Export, erasure and retention (conversations.privacy) walk this registry, so a model
added later is covered by registering it, and a test fails for any model with a path to a customer that nobody
registered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class DataSubject:
    """One person whose data is asked for or erased: the conversations and customer records found for them
    (by verified external id, email, or a conversation token), and the texts they wrote, for stores keyed by
    text (the answer cache) that cannot be searched by id. `message_ids` are the subject's conversations'
    messages, for stores keyed by message (a reply's cancel flag) that are erased after the rows are gone."""

    conversation_ids: frozenset[int] = frozenset()
    customer_ids: frozenset[int] = frozenset()
    customer_texts: tuple[str, ...] = ()
    message_ids: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.conversation_ids or self.customer_ids)


@dataclass(frozen=True)
class PersonalDataHolder:
    """A model with rows about customers.

    `conversation_lookup` / `customer_lookup` are ORM paths from the model to a conversation's or a customer's
    id ("conversation_id", "message__conversation_id", "id"); at least one is given. `erase` says what erasure
    does to the subject's rows: delete them, or `anonymise` them (a callable given the subject's rows, which
    blanks what identifies the person and keeps the row, returning how many it changed), for rows others rely
    on (an audit log). `retention` names the retention period that expires the model's rows (see
    `settings.RETENTION_DAYS`), measured on `time_field`; None keeps them as long as their conversation.
    `export_fields` are the fields an export shows (empty: every concrete field)."""

    model: type[Model]
    conversation_lookup: str | None = None
    customer_lookup: str | None = None
    erase: Literal["delete", "anonymise"] = "delete"
    anonymise: Callable[[QuerySet], int] | None = None
    retention: str | None = None
    time_field: str = "created_at"
    export_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.conversation_lookup or self.customer_lookup):
            raise ValueError(f"{self.model.__name__}: a holder needs a conversation or a customer lookup")
        if self.erase == "anonymise" and self.anonymise is None:
            raise ValueError(f"{self.model.__name__}: erase='anonymise' needs an anonymise callable")


@dataclass(frozen=True)
class PersonalDataStore:
    """Personal data kept outside the database. `erase` removes what the subject left there and returns how many
    entries it removed; `export`, where the store holds anything worth showing, returns it as JSON-ready data."""

    name: str
    erase: Callable[[DataSubject], int]
    export: Callable[[DataSubject], Any] | None = None


@dataclass
class _Registry:
    holders: dict[type[Model], PersonalDataHolder] = field(default_factory=dict)
    stores: dict[str, PersonalDataStore] = field(default_factory=dict)


_registry = _Registry()


def holder_register(holder: PersonalDataHolder) -> None:
    """Idempotent (ready() may run twice in tests); a second, different registration of a model is a mistake."""
    known = _registry.holders.get(holder.model)
    if known is not None and known != holder:
        raise ValueError(f"{holder.model.__name__} is already registered differently")
    _registry.holders[holder.model] = holder


def store_register(store: PersonalDataStore) -> None:
    _registry.stores[store.name] = store


def holders() -> Sequence[PersonalDataHolder]:
    return tuple(_registry.holders.values())


def stores() -> Sequence[PersonalDataStore]:
    return tuple(_registry.stores.values())
