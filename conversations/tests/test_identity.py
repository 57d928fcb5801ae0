"""The host site's signed identity: one conversation per verified customer, refusals that say what is wrong."""

from __future__ import annotations

import time

import pytest

from conversations.models import Conversation, Customer
from conversations.selectors.customers import customer_find
from conversations.services import identity

pytestmark = pytest.mark.django_db


def test_conversation_token_is_unguessable_and_url_safe() -> None:
    tokens = {identity.conversation_create().token for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def signed(user_id: str, *, name: str = "", email: str = "", age_s: int = 0) -> dict:
    """A user as the host site's server signs it when rendering a page, `age_s` seconds ago."""
    ts = int(time.time()) - age_s
    user = {"id": user_id, "ts": ts, "hash": identity.identity_hash(user_id=user_id, name=name, email=email, ts=ts)}
    return {**user, **({"name": name} if name else {}), **({"email": email} if email else {})}


def create(client, user: object) -> object:
    return client.post("/api/v1/conversations", {"user": user}, content_type="application/json")


@pytest.mark.django_db
def test_a_verified_customer_gets_the_same_conversation_on_every_device(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    user = signed("u-42", name="李雷", email="li@example.com")
    first, second = create(client, user), create(client, user)
    assert first.status_code == second.status_code == 201
    assert first.json()["token"] == second.json()["token"]
    conversation = Conversation.objects.get(token=first.json()["token"])
    customer = conversation.customer
    assert (customer.external_id, customer.name, customer.email) == ("u-42", "李雷", "li@example.com")
    # Anonymous visitors each get their own.
    anonymous = client.post("/api/v1/conversations")
    assert anonymous.status_code == 201 and anonymous.json()["token"] != first.json()["token"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "code"),
    [
        ({"id": "u-42", "ts": 1, "hash": "0" * 64}, "identity_refused"),
        ({"id": "u-42", "ts": 1, "hash": "é" * 64}, "identity_refused"),
        ({"id": "u-42"}, "identity_refused"),
        ({"id": True, "hash": "x"}, "identity_invalid"),
        ({"id": "u-42", "name": 7, "hash": "x"}, "identity_invalid"),
        ({"id": "u-42\nli@example.com", "hash": "x"}, "identity_invalid"),
        ("u-42", "identity_invalid"),
    ],
)
def test_a_wrong_identity_is_refused_with_a_clear_error(client, settings, user, code) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    response = create(client, user)
    assert response.status_code == 403 and response.json()["error"] == code
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_a_hash_replayed_with_another_email_or_name_is_refused_and_stores_nothing(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    user = signed("42", name="Li Lei", email="li@example.com")
    assert create(client, user).status_code == 201
    for changed in ({"email": "attacker@example.com"}, {"name": "Mallory"}, {"email": None}):
        response = create(client, {**user, **changed})
        assert response.status_code == 403 and response.json()["error"] == "identity_refused"
    (customer,) = customer_find(external_id="42")
    assert (customer.name, customer.email) == ("Li Lei", "li@example.com")


@pytest.mark.django_db
def test_an_identity_older_than_its_maximum_age_is_refused(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.WIDGET_IDENTITY_MAX_AGE_S = 3600
    assert create(client, signed("42", age_s=3500)).status_code == 201
    response = create(client, signed("42", email="new@example.com", age_s=3700))
    assert response.status_code == 403 and response.json()["error"] == "identity_expired"
    assert "the limit is 3600 s (WIDGET_IDENTITY_MAX_AGE_S)" in response.json()["detail"]
    assert customer_find(external_id="42")[0].email == ""


@pytest.mark.django_db
def test_an_identity_signed_in_the_future_is_refused_beyond_the_clock_skew(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.WIDGET_IDENTITY_CLOCK_SKEW_S = 300
    assert create(client, signed("42", age_s=-200)).status_code == 201
    response = create(client, signed("42", age_s=-400))
    assert response.status_code == 403 and response.json()["error"] == "identity_expired"
    assert "check the host server's clock" in response.json()["detail"]


@pytest.mark.django_db
def test_the_id_only_hash_is_refused_saying_what_to_sign(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    response = create(client, {"id": "42", "email": "li@example.com", "hash": identity.identity_hash_legacy("42")})
    assert response.status_code == 403 and response.json()["error"] == "identity_refused"
    assert "the identity hash must sign id, name, email and ts" in response.json()["detail"]
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_the_id_only_hash_when_allowed_stores_no_unsigned_name_or_email(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.WIDGET_IDENTITY_ACCEPT_LEGACY_HASH = True
    user = {"id": "42", "name": "Mallory", "email": "attacker@example.com", "hash": identity.identity_hash_legacy("42")}
    response = create(client, user)
    assert response.status_code == 201
    customer = Conversation.objects.get(token=response.json()["token"]).customer
    assert (customer.external_id, customer.name, customer.email) == ("42", "", "")
    assert create(client, {**user, "hash": "0" * 64}).status_code == 403


@pytest.mark.django_db
def test_enforced_identity_refuses_anonymous_chats(client, settings) -> None:
    settings.ENFORCE_IDENTITY = True
    response = client.post("/api/v1/conversations")
    assert response.status_code == 403 and response.json()["error"] == "identity_required"


@pytest.mark.django_db
def test_identity_without_a_configured_secret_is_refused(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = ""
    response = client.post("/api/v1/conversations", {"user": {"id": "u", "hash": "x"}}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"] == "identity_not_configured"


def test_the_pages_attributes_are_bounded_scalars_and_the_rest_is_dropped_not_refused() -> None:
    sent = {"plan": "gold", "seats": 3, "ratio": 0.5, "vip": True, "note": "x" * 500, "nested": {"a": 1},
            "list": [1], "nan": float("nan"), "bad key!": "v", "none": None, "k" * 41: "v"}
    kept = identity.customer_attributes({"attributes": sent})
    cut = "x" * identity.ATTRIBUTE_VALUE_MAX_CHARS
    assert kept == {"plan": "gold", "seats": 3, "ratio": 0.5, "vip": True, "note": cut}
    many = identity.customer_attributes({"attributes": {f"k{n}": n for n in range(50)}})
    assert list(many) == [f"k{n}" for n in range(identity.ATTRIBUTES_MAX)]
    assert identity.customer_attributes({"id": "u"}) is None
    assert identity.customer_attributes({"attributes": "plan=gold"}) is None
