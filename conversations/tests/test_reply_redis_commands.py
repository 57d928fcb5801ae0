"""The Redis work of one customer message's whole path, counted: every command this process sends to Redis while
the consumer's service stores and checks the message, the reply task streams its reply, and the model call is
logged. A ceiling on the whole, so that a change which adds a round trip to every reply (or to every delta) fails
here; the breakdown by command is printed for the next profile.

Counted at the client, below every library that talks to Redis (the cache through django-redis, the channel layer
through channels_redis's asyncio client, Celery's broker through kombu): each command packed for sending is one
command, each write to the socket one round trip (a pipeline is one). Redis's own INFO commandstats would count
every database's clients on the server, other processes' too. Timings are for bench/, never here.
"""

from __future__ import annotations

from typing import Any

import pytest

from conversations.models import LLMCall, Message
from conversations.pipeline.reply import reply_generate
from conversations.selectors.access import conversation_get
from conversations.services import messages
from conversations.services.identity import conversation_create
from conversations.services.replies import llm_call_record
from conversations.tests.test_reply_queries import ANSWER, no_worker_takes_the_tasks  # noqa: F401 - a fixture
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply
from tests.support.redis_traffic import RedisTraffic, redis_traffic

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

# The ceiling for one message's whole path in the steady state (caches warm, rate limits on as in production, the
# answer cache on, one Ollama node, a 300-token reply streamed unpaced: two coalesced deltas and one read of the stop
# flags, usually; a slow run may add a delta or a flag read per DELTA_COALESCE_MS, hence the margin of two).
# Before (main at 78d4e61): 48 commands in 44 round trips: GET 14, PUBLISH 8, EVALSHA 6 (the rate limits), MGET 3,
# SET 3, DEL 2, EXPIRE 2, LPUSH 2, ZADD 2, ZCOUNT 2, ZREM 2, ZREMRANGEBYSCORE 2. Since: each Ollama request (the
# query's embedding, the chat) reads its node's state and is counted in flight in one pipeline, its count not read
# with one node to try, its set pruned by the health check instead (4 round trips -> 2, 6 commands -> 4); each delta
# and the progress it ends go in one pipeline (2 -> 1); the versions of what is kept per process (the actions, the
# model profiles, the webhook endpoints, the labels: helpdesk.runtime.versioned) read once per message and once per
# reply, one MGET each, instead of a GET per use (9 -> 2); a message's and a model call's rate limits each counted
# all-or-none by one script (helpdesk.web.ratelimits._hit_all_or_none: EVALSHA 6 -> 2). After: 33 commands in 27
# round trips: PUBLISH 8, GET 5 (the answer cache's generation and entry, twice; the reply's end's generation),
# MGET 5 (the versions twice, the nodes' state twice, the stop flags once), SET 3 (two deltas' progress, each in the
# delta's pipeline; the answer cache), DEL 2 (the reply's flag and progress at its start and its end), EVALSHA 2,
# EXPIRE 2, LPUSH 2 (the generation and logging tasks), ZADD 2, ZREM 2.
CEILING_COMMANDS = 35
CEILING_ROUND_TRIPS = 29


def one_message(conversation_id: int, text: str) -> RedisTraffic:
    """One customer message through the services its consumer and its tasks call, its Redis commands counted."""
    with redis_traffic() as traffic:
        message, created = messages.message_post_customer(
            conversation=conversation_get(conversation_id=conversation_id), text=text, client_id=text[:40],
        )
        assert created
        reply = reply_generate(customer_message_id=message.pk)
        assert reply is not None and reply.status == Message.Status.COMPLETE
        assert reply.answer_source == Message.AnswerSource.LLM, "the path counted is a generated reply"
        llm_call_record(message_id=reply.pk)
    assert LLMCall.objects.filter(message_id=reply.pk).count() == 1
    return traffic


def test_one_customer_messages_whole_path_stays_within_its_redis_commands(
        fake_ollama: Any, settings: Any, capsys: Any, no_worker_takes_the_tasks: None) -> None:  # noqa: F811
    settings.MODERATION_LISTS_RECHECK_S = 2.0  # production's, as in test_reply_queries
    knowledge_base_create()
    fake_ollama.state.default_reply = Reply(content=ANSWER)
    one_message(conversation_create().pk, "How long until my parcel arrives?")  # the steady state is counted
    traffic = one_message(conversation_create().pk, "包裹多久能到？How long does delivery take?")
    with capsys.disabled():  # where they go, for the README and the next profile
        print(f"\nRedis: {traffic.total} commands (ceiling {CEILING_COMMANDS}), {traffic.round_trips} round trips "
              f"(ceiling {CEILING_ROUND_TRIPS})")
        for name, count in sorted(traffic.commands.items(), key=lambda item: (-item[1], item[0])):
            print(f"  {count:3d}  {name}")
        print("in order:\n" + "\n".join(f"  {call[:100]}" for call in traffic.calls))
    assert traffic.total <= CEILING_COMMANDS, f"more Redis commands than the ceiling: {dict(traffic.commands)}"
    assert traffic.round_trips <= CEILING_ROUND_TRIPS, f"more Redis round trips than the ceiling: {traffic.round_trips}"
