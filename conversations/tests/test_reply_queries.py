"""The database work of one customer message's whole path, counted: what the consumer's service stores and checks
(the FAQ and answer cache), what the reply task does (retrieval, the reply row, its progress, its end, the
model call's log record with it). A ceiling per part, so that a change which adds a query to every reply fails here.

Counted on every connection of the process, whichever thread opened it (the stream loop's database threads save
a reply's progress), in production mode on PostgreSQL; timings are for bench/, never here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from conversations.models import LLMCall, Message
from conversations.pipeline.reply import reply_generate
from conversations.selectors.access import conversation_get
from conversations.services import messages
from conversations.services.identity import conversation_create
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply
from tests.support.environment import require, uses_postgres

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

ANSWER = " ".join(["Parcels leave within 24 hours and arrive in 2-4 days [1]."] * 25)  # ~300 tokens

# The ceiling per part, in the steady state (caches warm; no webhook endpoint, no action; one progress save), with
# what the queries are. Transactions' BEGIN and COMMIT are not statements Django executes, and are not counted.
# Before (the same test on main at f3e8a60): message 9, reply 14, log 2 (25). Gone since: the model profile read
# three times (kept per process, helpdesk.runtime.versioned, and the reply keeps the one it was claimed with), the
# actions and a pending proposal looked for in both parts (kept per process; no proposal to look for without an
# action the customer confirms), the reply's conversation and profile read again at its end (one join), the
# knowledge base's version read twice for the message (knowledge.selectors.knowledge_version_once), and then (15 -> 14)
# the knowledge base's version read by the reply's retrieval: the claim's query carries it
# (knowledge.selectors.knowledge_version_column), and the reply holds it (knowledge_version_known), and then
# (14 -> 13) the model call's record, written with the reply's end (one insert) instead of by the log_turn task
# (the reply read again, then the insert), and then (13 -> 12) the dialogue before a conversation's first question,
# which the claim's query knows there is none of (a follow-up still reads it: "follow-up reply").
CEILING = {
    # The conversation (the consumer's fresh load); the knowledge base's version (read once for the product names
    # the message is classified with and the FAQ and answer-cache check); the message's insert; the previous
    # dialogue message's role (a question still unanswered is answered with this one, not from the FAQ); the
    # conversation's last_message_at.
    "message": 5,
    # The customer message with its conversation, its reply state and the knowledge base's version (one join,
    # subqueries, among them whether any dialogue comes before it); the reply row's insert; one progress save of
    # the streamed text; the reply row locked for its end with its conversation and profile (one join), its update;
    # the conversation's last_message_at; the model call's record.
    "reply": 7,
    # A later message of the same conversation: the same, and the dialogue before it (not the message again).
    "follow-up message": 5,
    "follow-up reply": 8,
}


@contextmanager
def queries_everywhere() -> Iterator[list[str]]:
    """Every SQL statement run meanwhile on any connection of this process: this thread's, and those that other
    threads (the database threads of the stream loop) open meanwhile."""
    seen: list[str] = []
    counting = [True]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # Only meanwhile: another thread's connection (the stream loop's database thread) keeps this wrapper after
        # the block, since only this thread's connections are reached to take it off.
        if counting[0]:
            seen.append(sql)
        return execute(sql, params, many, context)

    def install(sender: Any, connection: Any, **kwargs: Any) -> None:
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(install, weak=False)
    for connection in connections.all(initialized_only=True):
        install(None, connection)
    try:
        yield seen
    finally:
        counting[0] = False
        connection_created.disconnect(install)
        for connection in connections.all(initialized_only=True):
            if wrapper in connection.execute_wrappers:
                connection.execute_wrappers.remove(wrapper)


TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"([a-z0-9_]+)"', re.IGNORECASE)


def by_table(queries: list[str]) -> Counter[str]:
    """How many statements touched each table first named in them (savepoints and the like by their verb)."""
    counts: Counter[str] = Counter()
    for sql in queries:
        verb = sql.split(None, 1)[0].upper()
        found = TABLE.search(sql)
        counts[f"{verb} {found.group(1)}" if found else verb] += 1
    return counts


def one_message(conversation_id: int, text: str, *, prefix: str = "") -> dict[str, list[str]]:
    """One customer message through the services its consumer and its tasks call, each part's queries apart."""
    parts: dict[str, list[str]] = {}
    with queries_everywhere() as parts[prefix + "message"]:
        message, created = messages.message_post_customer(
            conversation=conversation_get(conversation_id=conversation_id), text=text, client_id=text[:40],
        )
    assert created
    with queries_everywhere() as parts[prefix + "reply"]:
        reply = reply_generate(customer_message_id=message.pk)
    assert reply is not None and reply.status == Message.Status.COMPLETE
    assert reply.answer_source == Message.AnswerSource.LLM, "the path counted is a generated reply"
    assert LLMCall.objects.filter(message_id=reply.pk).count() == 1
    return parts


@pytest.fixture
def no_worker_takes_the_tasks() -> Iterator[None]:
    """This test runs each message's tasks itself: the suite's session worker (tests/support/stack.py), where an
    earlier test started it, stops consuming meanwhile (Celery's remote control), else it claimed a reply first
    and the test's own run found it streaming; what this test queued is purged before it consumes again."""
    from helpdesk.celery import app

    queues = ("generation", "logging", "knowledge")
    for queue in queues:
        app.control.cancel_consumer(queue, reply=True, timeout=5)
    try:
        yield
    finally:
        app.control.purge()
        for queue in queues:
            app.control.add_consumer(queue, reply=True, timeout=5)


def test_one_customer_messages_whole_path_stays_within_its_queries(fake_ollama: Any, settings: Any,
                                                                    capsys: Any, no_worker_takes_the_tasks: None
                                                                    ) -> None:
    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    settings.MODERATION_LISTS_RECHECK_S = 2.0  # production's (the suite's is 0: every message reads the lists)
    knowledge_base_create()
    fake_ollama.state.default_reply = Reply(content=ANSWER)
    # A first message warms what is kept per process or in Redis (the product names, the model profiles, the
    # moderation lists, the actions and endpoints): the steady state is what is counted.
    one_message(conversation_create().pk, "How long until my parcel arrives?")
    conversation_id = conversation_create().pk
    parts = one_message(conversation_id, "包裹多久能到？How long does delivery take?")
    parts.update(one_message(conversation_id, "And to Chengdu? 寄到成都呢？", prefix="follow-up "))
    counts = {part: len(queries) for part, queries in parts.items()}
    with capsys.disabled():  # where they go, for the README and the next profile
        for part, queries in parts.items():
            print(f"\n{part}: {len(queries)} queries (ceiling {CEILING[part]})")
            for table, count in sorted(by_table(queries).items()):
                print(f"  {count:3d}  {table}")
    over = {part: f"{counts[part]} > {ceiling}" for part, ceiling in CEILING.items() if counts[part] > ceiling}
    assert not over, f"more queries than the ceiling (see CEILING for what they are): {over}\n" + "\n".join(
        f"{part}: {sql[:200]}" for part in over for sql in parts[part])
