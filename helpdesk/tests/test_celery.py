"""Routing: each task reaches exactly its own queue."""

from __future__ import annotations

from helpdesk.celery import app


def _route(task_name: str) -> tuple[str, str]:
    options = app.amqp.router.route({}, task_name)
    queue = options["queue"]
    return queue.name, queue.routing_key


def test_each_queue_has_its_own_routing_key() -> None:
    keys = {name: queue.routing_key for name, queue in app.amqp.queues.items()}
    assert keys == {"generation": "generation", "logging": "logging", "knowledge": "knowledge"}


def test_tasks_route_to_their_own_queue() -> None:
    assert _route("conversations.generate_reply") == ("generation", "generation")
    assert _route("conversations.log_turn") == ("logging", "logging")
    assert _route("knowledge.index_article") == ("knowledge", "knowledge")
    assert _route("knowledge.import_files") == ("knowledge", "knowledge")
