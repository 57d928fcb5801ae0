"""The migration to encryption at rest converts the rows already there, and going back restores them in clear."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from conversations.models import Customer, Message
from conversations.selectors.customers import customer_find
from conversations.selectors.search import message_ids_matching
from helpdesk.encryption import PREFIX

BEFORE = [("conversations", "0016_answer_source_declined")]
# Forward to the latest migration, not only 0017: the test reads through today's models, whose later columns
# (moderation's `flagged`, ...) must exist.
AFTER = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("conversations")


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def raw(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_existing_rows_are_encrypted_by_the_migration_and_decrypted_going_back() -> None:
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    customer = old.get_model("conversations", "Customer").objects.create(
        external_id="legacy-9", name="Chen Jing 陈静", email="Chen@Example.com"
    )
    conversation = old.get_model("conversations", "Conversation").objects.create(
        token="t-legacy", customer_id=customer.pk, contact_name="Chen", csat_comment="好"
    )
    old.get_model("conversations", "Message").objects.create(
        conversation_id=conversation.pk, role="customer", content="My order 订单 never came", reasoning=""
    )
    try:
        migrate(AFTER)
        assert all(
            value.startswith(PREFIX) for value in raw("SELECT external_id, name, email FROM conversations_customer")[0]
        )
        assert raw("SELECT content FROM conversations_message")[0][0].startswith(PREFIX)
        assert customer_find(email="chen@example.com")[0].name == "Chen Jing 陈静"
        assert customer_find(external_id="legacy-9")[0].pk == customer.pk
        assert message_ids_matching(query="订单") == [Message.objects.get().pk]

        migrate(BEFORE)
        assert raw("SELECT external_id, name, email FROM conversations_customer") == [
            ("legacy-9", "Chen Jing 陈静", "Chen@Example.com")
        ]
        assert raw("SELECT contact_name, csat_comment FROM conversations_conversation") == [("Chen", "好")]
        assert raw("SELECT content FROM conversations_message") == [("My order 订单 never came",)]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert Customer.objects.get().external_id == "legacy-9"
