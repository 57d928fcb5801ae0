"""What every process knows about the Ollama nodes: health, requests in flight, failures, cool-downs.

The gateway (helpdesk.llm.ollama) asks `nodes_ranked` where to send a request
and reports back how it went; the health check writes what it probed. All of
it lives in the shared cache (Redis in production), so every Daphne and
Celery process routes by the same picture: requests in flight are counted in a
Redis sorted set per node (one member per request, scored by when it stops
counting, so a worker killed mid-reply cannot leave a node looking busy
forever). Embedded mode keeps the same state in its one process.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

HEALTH_KEY = "ollama:health:{host}"
FAILURES_KEY = "ollama:failures:{host}"
COOLDOWN_KEY = "ollama:cooldown:{host}"
MISSING_KEY = "ollama:missing:{host}"
INFLIGHT_KEY = "helpdesk:ollama:inflight:{host}"
# An in-flight entry stops counting after this long even if never released (a killed worker).
INFLIGHT_MAX_S = 900


@dataclass
class NodeHealth:
    """The last probe of a node (`/api/version`, `/api/tags`, `/api/ps`)."""

    host: str
    up: bool
    checked_at: float
    version: str = ""
    models: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    error: str = ""

    def has_model(self, model: str) -> bool:
        return model_tag(model) in {model_tag(m) for m in self.models}


@dataclass
class NodeState:
    """A node as the router and the status pages see it."""

    host: str
    health: NodeHealth | None
    in_flight: int
    failures: int
    cooldown_until: float | None
    # Models this node answered 404 for since its last probe.
    missing: frozenset[str] = frozenset()

    def lacks(self, model: str) -> bool:
        if model_tag(model) in self.missing:
            return True
        return self.health is not None and self.health.up and not self.health.has_model(model)

    @property
    def cooling_down(self) -> bool:
        """Until its cool-down's end, stamped by the wall clock of the process that started it. An end further
        away than a whole cool-down means the clock stepped back since (NTP): then it is over, rather than
        keeping the node out of rotation for the step's length."""
        if self.cooldown_until is None:
            return False
        now = time.time()
        return now < self.cooldown_until <= now + settings.OLLAMA_NODE_COOLDOWN_S

    @property
    def probing(self) -> bool:
        """Its cool-down is over, but no probe has said it is back yet."""
        return self.cooldown_until is not None and not self.cooling_down

    @property
    def usable(self) -> bool:
        return self.cooldown_until is None and (self.health is None or self.health.up)

    def serves(self, model: str = "") -> bool:
        """Probed up and in rotation (and, given a model, known to have it): what readiness and the console
        count as a node that can answer."""
        return self.usable and self.health is not None and self.health.up and not (model and self.lacks(model))

    def as_dict(self) -> dict[str, Any]:
        if self.health is not None and not self.health.up:
            state = "down"  # what the last probe found, whatever the routing does about it
        elif self.cooling_down or self.probing:
            state = "cooling_down" if self.cooling_down else "probing"
        else:
            state = "unknown" if self.health is None else "up"
        return {"host": self.host, "state": state, "in_flight": self.in_flight, "failures": self.failures,
                "missing": sorted(self.missing),
                "cooldown_until": self.cooldown_until, "health": asdict(self.health) if self.health else None}


def model_tag(model: str) -> str:
    """`bge-m3` and `bge-m3:latest` name the same model."""
    return model if ":" in model else f"{model}:latest"


# --- requests in flight ----------------------------------------------------------------------------


class _LocalInflight:
    """Embedded mode: one process, so a dict is the whole truth."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, float]] = {}

    def add(self, host: str, token: str) -> None:
        with self._lock:
            self._entries.setdefault(host, {})[token] = time.time() + INFLIGHT_MAX_S

    def remove(self, host: str, token: str) -> None:
        with self._lock:
            self._entries.get(host, {}).pop(token, None)

    def forget(self, host: str) -> None:
        with self._lock:
            self._entries.pop(host, None)

    def counts(self, hosts: list[str]) -> dict[str, int]:
        now = time.time()
        with self._lock:
            return {h: sum(1 for until in self._entries.get(h, {}).values() if until > now) for h in hosts}


class _RedisInflight:
    """Shared by every process. Only a hint for choosing a node: while Redis is away a request is not counted
    (its entry, if any, expires after INFLIGHT_MAX_S), and the reply goes on; a reply must never fail on it."""

    def _redis(self) -> Any:
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    def _tolerant(self, what: str, write: Any) -> None:
        from redis.exceptions import RedisError

        try:
            write()
        except RedisError as exc:
            logger.warning("request in flight not %s: %s", what, exc)

    @staticmethod
    def _queue_add(pipe: Any, host: str, token: str, now: float) -> None:
        # Entries past their end (killed workers') are pruned by the health check (`prune`), not by every add.
        key = INFLIGHT_KEY.format(host=host)
        pipe.zadd(key, {token: now + INFLIGHT_MAX_S})
        pipe.expire(key, INFLIGHT_MAX_S)

    def prune(self, host: str) -> None:
        """Drop the entries that stopped counting (a killed worker's): the counts skip them already, this keeps
        the set small. Once per health check, rather than with each request."""
        self._tolerant("pruned", lambda: self._redis().zremrangebyscore(INFLIGHT_KEY.format(host=host), "-inf",
                                                                       time.time()))

    def add(self, host: str, token: str) -> None:
        def write() -> None:
            pipe = self._redis().pipeline(transaction=False)
            self._queue_add(pipe, host, token, time.time())
            pipe.execute()

        self._tolerant("counted", write)

    def remove(self, host: str, token: str, *, cache_keys_dropped: Sequence[str] = ()) -> None:
        """Uncount the request; `cache_keys_dropped` (a success ending a failure streak) go in the same round trip."""
        if not cache_keys_dropped:
            self._tolerant("uncounted", lambda: self._redis().zrem(INFLIGHT_KEY.format(host=host), token))
            return

        def write() -> None:
            from django.core.cache import cache as shared

            pipe = self._redis().pipeline(transaction=False)
            pipe.zrem(INFLIGHT_KEY.format(host=host), token)
            pipe.delete(*(shared.client.make_key(key) for key in cache_keys_dropped))
            pipe.execute()

        self._tolerant("uncounted", write)

    def read(self, cache_keys: list[str], hosts: list[str], *, start: tuple[str, str] | None = None
             ) -> tuple[dict[str, Any], dict[str, int]]:
        """The shared cache's values under `cache_keys` and the requests in flight per node of `hosts`, in one
        round trip (a pipeline on the cache's own connection, its keys and encoding django-redis's); with `start`
        (host, token), that request is counted in the same trip. Nothing known while Redis is down, as the cache
        (IGNORE_EXCEPTIONS) and `counts` answer then: the request goes ahead uncounted."""
        from redis.exceptions import RedisError

        client = cache.client  # django_redis's DefaultClient: the keys as cache.get_many makes them, its decoding
        now = time.time()
        try:
            pipe = self._redis().pipeline(transaction=False)
            pipe.mget([client.make_key(key) for key in cache_keys])
            for host in hosts:
                pipe.zcount(INFLIGHT_KEY.format(host=host), now, "+inf")
            if start is not None:
                self._queue_add(pipe, *start, now)
            results = pipe.execute()
        except RedisError as exc:
            logger.warning("nodes' state unknown: %s", exc)
            return {}, {}
        found = {key: client.decode(value) for key, value in zip(cache_keys, results[0], strict=True)
                 if value is not None}
        return found, dict(zip(hosts, results[1:1 + len(hosts)], strict=True))

    def forget(self, host: str) -> None:
        self._tolerant("forgotten", lambda: self._redis().delete(INFLIGHT_KEY.format(host=host)))

    def counts(self, hosts: list[str]) -> dict[str, int]:
        """Requests in flight per node; none known while Redis is down (the nodes then rank as equally busy,
        and /metrics still answers, reporting the outage on helpdesk_dependency_up)."""
        from redis.exceptions import RedisError

        now = time.time()
        try:
            pipe = self._redis().pipeline(transaction=False)
            for host in hosts:
                pipe.zcount(INFLIGHT_KEY.format(host=host), now, "+inf")
            return dict(zip(hosts, pipe.execute(), strict=True))
        except RedisError as exc:
            logger.warning("requests in flight per node unknown: %s", exc)
            return {}


_local_inflight = _LocalInflight()


def _inflight() -> _LocalInflight | _RedisInflight:
    return _local_inflight if settings.EMBEDDED else _RedisInflight()


def request_started(host: str) -> str:
    """Count a request against `host` until `request_finished` with the returned token."""
    token = uuid.uuid4().hex
    _inflight().add(host, token)
    return token


def request_finished(host: str, token: str, *, succeeded: NodeState | None = None) -> None:
    """Uncount the request; with `succeeded` (the node's state when the request started), it worked, and what
    `node_succeeded` would write goes in the same round trip (nothing more on the common path)."""
    dropped = _success_drops(succeeded) if succeeded is not None else []
    inflight = _inflight()
    if isinstance(inflight, _RedisInflight):
        inflight.remove(host, token, cache_keys_dropped=dropped)
        return
    inflight.remove(host, token)
    if dropped:
        cache.delete_many(dropped)


# --- health, failures, cool-down -------------------------------------------------------------------


def nodes_state(hosts: list[str] | None = None, *, start: str = "") -> list[NodeState]:
    """Every configured node with what is known of it, in configuration order (one Redis round trip). With
    `start` (a token), a request is counted against the first node in the same trip, and the requests in flight
    are not read (`nodes_to_try` with one node: nothing to rank it against; they show as 0)."""
    hosts = list(hosts or settings.OLLAMA_HOSTS)
    keys = {}
    for host in hosts:
        keys[HEALTH_KEY.format(host=host)] = (host, "health")
        keys[FAILURES_KEY.format(host=host)] = (host, "failures")
        keys[COOLDOWN_KEY.format(host=host)] = (host, "cooldown")
        keys[MISSING_KEY.format(host=host)] = (host, "missing")
    inflight = _inflight()
    counted = [] if start else hosts  # the request started goes to the first node whatever its count
    if isinstance(inflight, _RedisInflight):
        found, in_flight = inflight.read(list(keys), counted, start=(hosts[0], start) if start else None)
    else:
        found, in_flight = cache.get_many(list(keys)), inflight.counts(counted)
        if start:
            inflight.add(hosts[0], start)
    known: dict[str, dict[str, Any]] = {host: {} for host in hosts}
    for key, value in found.items():
        host, what = keys[key]
        known[host][what] = value
    return [
        NodeState(
            host=host,
            health=NodeHealth(**known[host]["health"]) if "health" in known[host] else None,
            in_flight=in_flight.get(host, 0),
            failures=int(known[host].get("failures") or 0),
            cooldown_until=known[host].get("cooldown"),
            missing=frozenset(known[host].get("missing") or ()),
        )
        for host in hosts
    ]


def nodes_ranked(*, model: str, hosts: list[str] | None = None) -> list[NodeState]:
    """Nodes in the order to try them for `model`.

    First the usable nodes known (or not known not) to have the model, fewest
    requests in flight first (ties in random order, so idle nodes share the
    load); then nodes whose cool-down has run out and await their probe; then
    nodes cooling down or last seen down (a stale picture must not stop every
    request); nodes known to lack the model come last.
    """
    states = nodes_state(hosts)
    random.shuffle(states)

    def rank(state: NodeState) -> tuple[int, int]:
        if state.lacks(model):
            tier = 3
        elif state.usable:
            tier = 0
        elif state.probing:
            tier = 1
        else:
            tier = 2
        return tier, state.in_flight

    return sorted(states, key=rank)


def nodes_to_try(*, model: str, hosts: list[str] | None = None) -> Iterator[tuple[NodeState, str]]:
    """The nodes of `nodes_ranked`, each counted in flight as it is handed out, with its token for
    `request_finished` (the caller finishes every one it was handed, whatever came of it).

    With one node (the common deployment, and a request pinned to a node) its state is read and the request
    counted in one Redis round trip; with several, the count waits for the ranking, one more trip."""
    hosts = list(hosts or settings.OLLAMA_HOSTS)
    if len(hosts) == 1:
        token = uuid.uuid4().hex
        [state] = nodes_state(hosts, start=token)
        yield state, token
        return
    for state in nodes_ranked(model=model, hosts=hosts):
        yield state, request_started(state.host)


def node_failed(host: str, *, kind: str) -> bool:
    """Count a failure; the node is taken out for OLLAMA_NODE_COOLDOWN_S after too many in a row.
    Returns whether this failure started a cool-down."""
    key = FAILURES_KEY.format(host=host)
    cache.add(key, 0, timeout=max(settings.OLLAMA_NODE_COOLDOWN_S * 4, 60))
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=max(settings.OLLAMA_NODE_COOLDOWN_S * 4, 60))
        failures = 1
    if failures >= settings.OLLAMA_NODE_MAX_FAILURES:
        cooldown_start(host)
        cache.set(key, 0, timeout=max(settings.OLLAMA_NODE_COOLDOWN_S * 4, 60))
        return True
    return False


def cooldown_start(host: str) -> None:
    until = time.time() + settings.OLLAMA_NODE_COOLDOWN_S
    # Kept past its end: the node stays "probing" until a health check finds it well.
    cache.set(COOLDOWN_KEY.format(host=host), until, timeout=None)


def node_succeeded(state: NodeState) -> None:
    """A request worked: the failure streak ends, and a node awaiting its probe has passed it.
    Costs nothing on the common path (a node with no failures)."""
    dropped = _success_drops(state)
    if dropped:
        cache.delete_many(dropped)


def _success_drops(state: NodeState) -> list[str]:
    """The keys a success deletes: none for a node with no failures and no cool-down, by far the most requests
    (the state read when the request started tells, so a write that changes nothing is never sent)."""
    if state.probing:
        return [FAILURES_KEY.format(host=state.host), COOLDOWN_KEY.format(host=state.host)]
    if state.failures:
        return [FAILURES_KEY.format(host=state.host)]
    return []


def node_model_missing(host: str, model: str) -> None:
    """A 404 for `model`: the next requests go elsewhere first, until a probe finds the model pulled."""
    key = MISSING_KEY.format(host=host)
    missing = set(cache.get(key) or ()) | {model_tag(model)}
    cache.set(key, sorted(missing), timeout=max(settings.OLLAMA_HEALTH_INTERVAL_S * 6, 60))


def health_record(health: NodeHealth) -> None:
    """Store a probe's result; a node found well after its cool-down is back in rotation."""
    cache.set(HEALTH_KEY.format(host=health.host), asdict(health), timeout=None)
    if health.up:
        cache.delete(MISSING_KEY.format(host=health.host))  # the probe's model list is fresher
    cooldown_key = COOLDOWN_KEY.format(host=health.host)
    if health.up:
        until = cache.get(cooldown_key)
        if until is not None and time.time() >= until:
            cache.delete_many([cooldown_key, FAILURES_KEY.format(host=health.host)])
    elif cache.get(cooldown_key) is None:
        cooldown_start(health.host)
    inflight = _inflight()
    if isinstance(inflight, _RedisInflight):
        inflight.prune(health.host)


def health_is_stale(states: list[NodeState], *, max_age: float) -> bool:
    now = time.time()
    return any(s.health is None or now - s.health.checked_at > max_age for s in states)


def nodes_forget(hosts: list[str]) -> None:
    """Drop everything known about these nodes (tests; an operator replacing a node)."""
    keys = [k.format(host=h) for h in hosts for k in (HEALTH_KEY, FAILURES_KEY, COOLDOWN_KEY, MISSING_KEY)]
    cache.delete_many(keys)
    for host in hosts:
        _inflight().forget(host)
