"""Every model whose rows can be traced to a customer or a conversation is in the personal-data registry
(helpdesk.privacy), so that export and erasure cover it: a model added later without registering fails here."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from conversations.models import Conversation, Customer, Message
from conversations.privacy.subjects import holder_rows
from helpdesk.privacy import DataSubject, holders, stores

TARGETS = (Customer, Conversation, Message)
HOPS = 3
# Models with a path to a customer that hold nothing about them, each with the reason.
NOT_PERSONAL: dict[str, str] = {}


def path_to_customer(model: type[models.Model], hops: int = HOPS) -> list[str] | None:
    """The first chain of forward relations (foreign keys, one-to-ones, many-to-manys) from `model` to a
    customer, a conversation or a message, within `hops`; None when there is none."""
    frontier: list[tuple[type[models.Model], list[str]]] = [(model, [])]
    seen = {model}
    for _ in range(hops + 1):
        following = []
        for current, path in frontier:
            if current in TARGETS:
                return path
            for field in current._meta.get_fields():
                related = getattr(field, "related_model", None)
                if not (field.is_relation and field.concrete and related and related not in seen):
                    continue
                seen.add(related)
                following.append((related, [*path, field.name]))
        frontier = following
    return None


def uncovered(candidates: Iterable[type[models.Model]], registered: set[type[models.Model]]) -> list[str]:
    """The models with a path to a customer that are neither registered nor known not to be personal."""
    return [
        f"{model._meta.label} ({' -> '.join(path) or 'itself'})"
        for model in candidates
        if (path := path_to_customer(model)) is not None
        and model not in registered
        and model._meta.label not in NOT_PERSONAL
    ]


def test_every_model_with_a_path_to_a_customer_is_registered() -> None:
    registered = {holder.model for holder in holders()}
    assert uncovered(apps.get_models(), registered) == []
    # The walk is not vacuous: these are found, two hops away included.
    labels = {model._meta.label for model in apps.get_models() if path_to_customer(model) is not None}
    assert {
        "conversations.Customer",
        "conversations.EvalResult",
        "agents.AuditEvent",
        "conversations.Feedback",
        "conversations.EvalSuggestionDismissal",
        "conversations.LLMCall",
    } <= labels
    assert path_to_customer(apps.get_model("knowledge", "Article")) is None


@isolate_apps("conversations")
def test_a_model_nobody_registered_is_caught_however_far_its_path() -> None:
    class WebhookDelivery(models.Model):  # noqa: DJ008  (a later feature's table: points at a message)
        message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "conversations"

    class DeliveryAttempt(models.Model):  # noqa: DJ008  (two hops away from the message)
        delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE)

        class Meta:
            app_label = "conversations"

    class Unrelated(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "conversations"

    registered = {holder.model for holder in holders()}
    found = uncovered([WebhookDelivery, DeliveryAttempt, Unrelated, Message], registered)
    assert found == ["conversations.WebhookDelivery (message)", "conversations.DeliveryAttempt (delivery -> message)"]
    assert uncovered([WebhookDelivery], registered | {WebhookDelivery}) == []


@pytest.mark.django_db
def test_every_registered_lookup_leads_somewhere_and_every_store_erases() -> None:
    subject = DataSubject(conversation_ids=frozenset({1}), customer_ids=frozenset({1}), customer_texts=("hi",))
    for holder in holders():
        assert list(holder_rows(holder, subject)) == []  # the ORM path is valid (a wrong one raises FieldError)
    assert {store.name for store in stores()} >= {"answer cache", "conversation state"}
    for store in stores():
        assert store.erase(subject) == 0
