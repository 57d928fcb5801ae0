"""With Redis unreachable (an address where nothing listens: connections are refused), what only helps, the
count of requests in flight per Ollama node, never fails a reply; and what the customer asked for, a stop, is not
silently dropped: it raises RedisUnavailable, which the socket answers with "busy" (tests/faults/test_redis_outage.py
runs both against the real stack)."""

from __future__ import annotations

import logging

import pytest

from tests.support.environment import free_port, require


@pytest.fixture
def redis_unreachable(settings):
    require(not settings.EMBEDDED, "Redis (REDIS_URL)")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": dead}}


@pytest.mark.production
def test_requests_in_flight_go_uncounted_and_the_reply_goes_on(redis_unreachable, caplog) -> None:
    from helpdesk.llm import nodes

    with caplog.at_level(logging.WARNING, logger="helpdesk.llm.nodes"):
        token = nodes.request_started("http://node-a:11434")
        nodes.request_finished("http://node-a:11434", token)
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "request in flight not counted", "request in flight not uncounted"]


@pytest.mark.production
@pytest.mark.django_db
def test_a_stop_that_cannot_be_recorded_raises_rather_than_being_lost(redis_unreachable) -> None:
    from conversations.models import Message
    from conversations.services.cancel import replies_cancel
    from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
    from helpdesk.web.redisdown import RedisUnavailable, redis_unavailable

    conversation = conversation_factory()
    asked = customer_message_factory(conversation)
    bot_message_factory(conversation, text="Half of", status=Message.Status.STREAMING, reply_to=asked)
    with pytest.raises(RedisUnavailable) as raised:
        replies_cancel(conversation=conversation)
    assert redis_unavailable(raised.value)


def test_what_counts_as_redis_being_away() -> None:
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError, ResponseError

    from helpdesk.web.redisdown import redis_unavailable

    def caused_by(cause: BaseException) -> Exception:
        try:
            raise ValueError("the frame failed") from cause
        except ValueError as exc:
            return exc

    assert redis_unavailable(ConnectionError("Connection closed by server."))
    assert redis_unavailable(caused_by(OperationalError("Error 111 connecting")))
    # redis-py's pub/sub connection read by two coroutines while both reconnect (the channel layer, Redis away)
    assert redis_unavailable(RuntimeError(
        "readuntil() called while another coroutine is already waiting for incoming data"))
    assert not redis_unavailable(RuntimeError("a bug"))
    assert not redis_unavailable(ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"))


@pytest.mark.production
def test_with_the_nodes_state_unknown_a_request_still_goes_to_the_node(redis_unreachable, settings, caplog) -> None:
    from helpdesk.llm import nodes

    settings.OLLAMA_HOSTS = ["http://node-a:11434"]
    with caplog.at_level(logging.WARNING, logger="helpdesk.llm.nodes"):
        state, token = next(nodes.nodes_to_try(model="deepseek-r1:7b"))
        nodes.request_finished(state.host, token, succeeded=state)
    assert state.host == "http://node-a:11434" and state.health is None and state.usable and state.failures == 0
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "nodes' state unknown", "request in flight not uncounted"]


@pytest.mark.production
async def test_a_delta_with_its_progress_is_dropped_not_raised_while_redis_is_away(redis_unreachable, settings) -> None:
    """The delta and its progress go in one pipeline when the channel layer shares the cache's Redis: with that Redis
    away, both are dropped (the outage recorded, the sockets reload once it is back) and the stream goes on."""
    from channels.layers import channel_layers

    from conversations import events

    layer = settings.CHANNEL_LAYERS["default"]
    dead = settings.CACHES["default"]["LOCATION"]
    hosts = [{**layer["CONFIG"]["hosts"][0], "address": dead}]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": hosts}}}
    channel_layers.backends.clear()
    assert events._layer_shares_the_cache()
    await events.reply_delta(conversation_id=1, message_id=2, seq=0, text="Hi", sent="Hi")
