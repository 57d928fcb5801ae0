"""Contact fields and message text are encrypted at rest (helpdesk.encryption), and look-ups, search and key
rotation keep working: checked on what the database really holds (raw SQL), in PostgreSQL and SQLite alike."""

from __future__ import annotations

import io
import secrets

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from conversations.models import Conversation, Customer, Message
from conversations.selectors.customers import customer_find
from conversations.selectors.inbox import inbox_page
from conversations.selectors.search import message_ids_matching
from conversations.services import identity
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from helpdesk.encryption import PREFIX, DecryptionFailed

pytestmark = pytest.mark.django_db

PERSONAL = {
    "name": "Li Lei 李雷",
    "email": "li.lei@example.com",
    "external_id": "shop-user-4711",
    "contact_name": "Han Meimei 韩梅梅",
    "contact_email": "meimei@example.org",
    "comment": "Quick and kind 很快",
    "message": "My parcel to 42 Baker Street never arrived",
    "zh": "我的包裹一直没有送到，请帮我查一下",
    "reasoning": "Worried about the missing parcel, 担心",
}


def raw(sql: str) -> str:
    """Every value the query returns, as one text: what someone with a copy of the database reads."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def stored_personal_data() -> Conversation:
    customer = Customer.objects.create(
        external_id=PERSONAL["external_id"], name=PERSONAL["name"], email=PERSONAL["email"]
    )
    conversation = conversation_factory(
        customer=customer,
        contact_name=PERSONAL["contact_name"],
        contact_email=PERSONAL["contact_email"],
        csat_comment=PERSONAL["comment"],
    )
    customer_message_factory(conversation, PERSONAL["message"])
    customer_message_factory(conversation, PERSONAL["zh"])
    bot_message_factory(conversation, "We will look into it.", reasoning=PERSONAL["reasoning"])
    return conversation


def test_the_tables_hold_no_name_email_id_or_message_text_in_clear() -> None:
    stored_personal_data()
    tables = (
        raw("SELECT * FROM conversations_customer")
        + raw("SELECT * FROM conversations_conversation")
        + raw("SELECT * FROM conversations_message")
    )
    for value in PERSONAL.values():
        for piece in (value, *value.split()):
            if len(piece) > 3:
                assert piece not in tables
    assert raw("SELECT content FROM conversations_message").count(PREFIX) == 3


def test_the_orm_reads_plain_text_back() -> None:
    conversation = stored_personal_data()
    again = Conversation.objects.select_related("customer").get(pk=conversation.pk)
    assert (again.customer.name, again.customer.email, again.customer.external_id) == (
        PERSONAL["name"],
        PERSONAL["email"],
        PERSONAL["external_id"],
    )
    assert (again.contact_name, again.contact_email, again.csat_comment) == (
        PERSONAL["contact_name"],
        PERSONAL["contact_email"],
        PERSONAL["comment"],
    )
    assert list(again.messages.values_list("content", flat=True)) == [
        PERSONAL["message"],
        PERSONAL["zh"],
        "We will look into it.",
    ]
    assert again.messages.last().reasoning == PERSONAL["reasoning"]
    assert again.messages.exclude(content="").count() == 3


def test_message_text_is_stored_in_clear_when_encrypt_messages_is_off(settings) -> None:
    settings.ENCRYPT_MESSAGES = False
    conversation = conversation_factory(contact_name="Wang Fang")
    customer_message_factory(conversation, "Plain words 明文")
    assert raw("SELECT content FROM conversations_message") == "Plain words 明文"
    assert "Wang Fang" not in raw("SELECT contact_name FROM conversations_conversation")
    assert Message.objects.get().content == "Plain words 明文"


def test_sql_comparisons_on_an_encrypted_column_are_refused_not_silently_empty() -> None:
    with pytest.raises(FieldError, match="customer_find"):
        Customer.objects.filter(external_id="42").exists()
    with pytest.raises(FieldError, match="encrypted"):
        Message.objects.filter(content__icontains="parcel").exists()


def test_an_identity_finds_the_same_customer_by_its_hashed_id(client, settings) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    first = identity.conversation_create(user=signed("u-42", name="Zhang Wei", email="Zhang.Wei@Example.com"))
    again = identity.conversation_create(user=signed("u-42", name="张伟"))
    assert first.pk == again.pk and Customer.objects.count() == 1
    (customer,) = customer_find(external_id="u-42")
    assert (customer.name, customer.email) == ("张伟", "Zhang.Wei@Example.com")
    assert customer_find(email="zhang.wei@example.COM ") == [customer]
    assert customer_find(external_id="u-43") == customer_find(email="") == []
    assert "u-42" not in raw("SELECT * FROM conversations_customer")


def test_the_hashed_id_keeps_customers_unique() -> None:
    Customer.objects.create(external_id="same-id")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="same-id", name="Another")


def signed(user_id: str, **fields: str) -> dict:
    import time

    ts = int(time.time())
    return {"id": user_id, **fields, "ts": ts, "hash": identity.identity_hash(user_id=user_id, ts=ts, **fields)}


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Where is my parcel to Baker Street?", "parcel"),
        ("Where is my parcel to Baker Street?", "BAKER str"),  # case, and a word's start
        ("Where is my parcel to Baker Street?", "ｐａｒｃｅｌ"),  # full-width letters
        ("Order A-10023 arrived damaged", "a-10023"),
        ("我的包裹一直没有送到", "包裹"),
        ("我的包裹一直没有送到", "送"),  # one character
        ("我的包裹一直没有送到", "没有送到"),
        ("Tracking 单号 SF1234567 还没更新", "单号 sf123"),
    ],
)
def test_inbox_search_finds_words_in_encrypted_messages(text, query) -> None:
    wanted = conversation_factory(status=Conversation.Status.WAITING_HUMAN)
    customer_message_factory(wanted, text)
    other = conversation_factory(status=Conversation.Status.WAITING_HUMAN)
    customer_message_factory(other, "Thanks, all good 谢谢")
    assert [item["id"] for item in inbox_page(search=query)["items"]] == [wanted.pk]


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Where is my parcel to Baker Street?", "parcel Street"),  # both words, but not this text
        ("我的包裹一直没有送到", "包送"),  # both characters, not next to each other
        ("我的包裹一直没有送到", "裹包"),
        ("Where is my parcel?", "x"),  # one Latin letter: nothing to look up
    ],
)
def test_inbox_search_keeps_only_messages_that_contain_the_query(text, query) -> None:
    conversation = conversation_factory(status=Conversation.Status.WAITING_HUMAN)
    customer_message_factory(conversation, text)
    assert inbox_page(search=query)["items"] == []


def test_search_finds_messages_stored_in_clear_and_encrypted_alike(settings) -> None:
    conversation = conversation_factory()
    settings.ENCRYPT_MESSAGES = False
    old = customer_message_factory(conversation, "refund for the teapot, please")
    settings.ENCRYPT_MESSAGES = True
    new = customer_message_factory(conversation, "Refund 退款 for the cups too")
    assert message_ids_matching(query="refund") == [old.pk, new.pk]
    assert message_ids_matching(query="退款") == [new.pk]


def test_search_checks_only_the_newest_candidates_it_is_allowed_to_decrypt(settings) -> None:
    settings.SEARCH_VERIFY_MAX = 2
    conversation = conversation_factory()
    found = [customer_message_factory(conversation, f"teapot number {n}").pk for n in range(4)]
    assert message_ids_matching(query="teapot") == found[-2:]


def test_admin_search_finds_encrypted_messages(admin_client) -> None:
    conversation = conversation_factory()
    message = customer_message_factory(conversation, "The lid of my gaiwan is chipped 盖碗")
    customer_message_factory(conversation_factory(), "Nothing to see")
    for query in ("gaiwan", "盖碗"):
        page = admin_client.get("/admin/conversations/message/", {"q": query})
        assert page.status_code == 200 and list(page.context["cl"].result_list) == [message]
        page = admin_client.get("/admin/conversations/conversation/", {"q": query})
        assert list(page.context["cl"].result_list) == [conversation]


def fernet_key() -> str:
    return Fernet.generate_key().decode()


def rotate() -> str:
    out = io.StringIO()
    call_command("encryption_rotate", batch_size=2, stdout=out)
    return out.getvalue()


def test_key_rotation_keeps_old_rows_readable_then_moves_them_to_the_new_key(settings) -> None:
    key_a, key_b = fernet_key(), fernet_key()
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    conversation = stored_personal_data()
    before = raw("SELECT content FROM conversations_message")

    settings.FIELD_ENCRYPTION_KEYS = [key_b, key_a]
    assert Customer.objects.get().name == PERSONAL["name"]  # old rows readable with the old key second
    output = rotate()
    assert "conversations.Message: 3/3 rows checked, 3 rewritten" in output
    assert "conversations.Customer: 1/1 rows checked, 1 rewritten" in output
    assert raw("SELECT content FROM conversations_message") != before
    assert "0 rewritten" in rotate().splitlines()[-2]  # idempotent: nothing left to do

    settings.FIELD_ENCRYPTION_KEYS = [key_b]
    again = Conversation.objects.select_related("customer").get(pk=conversation.pk)
    assert (again.customer.email, again.contact_email) == (PERSONAL["email"], PERSONAL["contact_email"])
    assert [m.content for m in again.messages.all()][:2] == [PERSONAL["message"], PERSONAL["zh"]]
    assert customer_find(external_id=PERSONAL["external_id"]) == [again.customer]  # hashes did not change
    assert message_ids_matching(query="包裹")


def test_a_wrong_key_is_a_clear_error_not_garbage(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [fernet_key()]
    stored_personal_data()
    settings.FIELD_ENCRYPTION_KEYS = [fernet_key()]
    with pytest.raises(
        DecryptionFailed, match=r"Customer\.external_id cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS"
    ):
        Customer.objects.get()
    with pytest.raises(CommandError, match=r"conversations_customer.external_id \(id \d+\) cannot be decrypted"):
        rotate()


def test_rotation_encrypts_rows_stored_in_clear_and_decrypts_when_messages_are_no_longer_encrypted(settings) -> None:
    settings.ENCRYPT_MESSAGES = False
    conversation = conversation_factory()
    customer_message_factory(conversation, "Written before encryption 加密之前")
    assert "Written before" in raw("SELECT content FROM conversations_message")
    settings.ENCRYPT_MESSAGES = True
    rotate()
    assert raw("SELECT content FROM conversations_message").startswith(PREFIX)
    assert message_ids_matching(query="加密")
    settings.ENCRYPT_MESSAGES = False
    rotate()
    assert raw("SELECT content FROM conversations_message") == "Written before encryption 加密之前"
    assert raw("SELECT search_index FROM conversations_message") == ""


def test_a_changed_lookup_key_is_applied_by_the_rotation(settings) -> None:
    Customer.objects.create(external_id="u-7", email="ann@example.com")
    settings.LOOKUP_HASH_KEY = secrets.token_urlsafe(32)
    assert customer_find(external_id="u-7") == []
    rotate()
    assert [c.email for c in customer_find(external_id="u-7")] == ["ann@example.com"]


def test_a_streaming_replys_partial_text_is_searchable_while_encrypted() -> None:
    from conversations.services.replies import reply_progress_save

    conversation = conversation_factory()
    reply = bot_message_factory(conversation, "", status=Message.Status.STREAMING, attempts=1)
    assert reply_progress_save(message_id=reply.pk, attempt=1, content="部分回答: your teapot ships")
    assert raw(f"SELECT content FROM conversations_message WHERE id = {reply.pk}").startswith(PREFIX)
    assert message_ids_matching(query="teapot") == message_ids_matching(query="回答") == [reply.pk]
