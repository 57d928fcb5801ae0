"""The Celery app and the one way services hand work to it.

Queues: `generation` (streaming replies, long and I/O bound), `logging`
(bookkeeping that must never delay a reply) and `knowledge` (importing and
indexing articles: minutes of embedding calls must not hold up either).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
import time
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from celery.beat import PersistentScheduler
from celery.signals import (
    celeryd_after_setup,
    task_postrun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)
from kombu import Exchange, Queue

from helpdesk.runtime import aio
from helpdesk.runtime.clock import redis_clock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue gets its own routing key: with Celery's defaults both would be
# bound to the key "generation", and every task would land in both queues.
_exchange = Exchange("helpdesk", type="direct")
app.conf.task_queues = (
    Queue("generation", _exchange, routing_key="generation"),
    Queue("logging", _exchange, routing_key="logging"),
    Queue("knowledge", _exchange, routing_key="knowledge"),
)
app.conf.task_default_exchange = "helpdesk"
app.conf.task_default_routing_key = "generation"
app.autodiscover_tasks()


logger = logging.getLogger(__name__)


@worker_init.connect
def _worker_start(sender: Any = None, **kwargs: Any) -> None:
    """With WORKER_METRICS_PORT set, the worker's main process serves its pool's metrics (Kubernetes pods)."""
    from django.conf import settings

    from helpdesk.observability import metrics

    if settings.WORKER_METRICS_PORT:
        metrics.worker_metrics_serve(settings.WORKER_METRICS_PORT)
    if _runs_tasks_in_process(sender):
        # Once the worker's logging is set up (its warm-up says what it did), before it takes a task.
        celeryd_after_setup.connect(_threaded_worker_init, weak=False)
        return
    # Connected now, after Celery's Django fixup connected its own: that one first drops the connections the
    # pool process inherited from the parent, then this one sizes the pool and warms up.
    worker_process_init.connect(_pool_process_init, weak=False)


def _runs_tasks_in_process(worker: Any) -> bool:
    """Whether the worker runs its tasks in its own process (a pool of threads), not in forked ones."""
    pool = getattr(worker, "pool_cls", "") or ""
    name = pool if isinstance(pool, str) else f"{pool.__module__}.{pool.__qualname__}"
    return "thread" in name.lower()


def _threaded_worker_init(**kwargs: Any) -> None:
    """A generation worker of threads (CELERY_GENERATION_POOL=threads): its one process keeps a pool of
    GENERATION_DB_CONNECTIONS connections for its replies' pipelines and saves, and warms up before it takes a
    task, its stream loop included (helpdesk.runtime.aio.run_shared)."""
    from django.conf import settings

    from helpdesk.runtime import dbbudget, warmup

    # A task waits its turn for a connection (GENERATION_DB_WAIT_S), where a web request gives up after
    # DATABASE_POOL_TIMEOUT_S to answer "busy": with a hundred replies sharing a few connections, a task that gave
    # up would leave its reply to the sweeper a minute later (measured: 216 of 1,000 replies late or lost).
    dbbudget.process_connections_configure(settings.DATABASES, name="helpdesk generation worker",
                                           pool_size=settings.GENERATION_DB_CONNECTIONS,
                                           pool_timeout_s=settings.GENERATION_DB_WAIT_S)
    # Celery's Django fixup keeps a task's connection for CELERY_DB_REUSE_MAX tasks: right for a process of one
    # thread, but here every task thread would keep one of the pool's few, and the pool would be empty after
    # GENERATION_DB_CONNECTIONS replies. Each task hands its connection back to the pool when it ends.
    task_postrun.connect(_connections_return, weak=False)
    if settings.WARM_UP:
        warmup.warm("worker")


def _connections_return(**kwargs: Any) -> None:
    from django.db import connections

    connections.close_all()


def _pool_process_init(**kwargs: Any) -> None:
    """In each pool process, after it forks and before it takes a task: a pool of one connection, warmed up.

    A pool process runs one task at a time on one thread, so one connection is all it can use
    (helpdesk.runtime.dbbudget counts one per process). Warming here, not in the parent, keeps every connection
    and cache in the process that uses it: nothing opened before the fork is shared by two processes.
    """
    from django.conf import settings

    from helpdesk.runtime import dbbudget, warmup

    dbbudget.process_connections_configure(settings.DATABASES, name="helpdesk worker", pool_size=1)
    if settings.WARM_UP:
        warmup.warm("worker")


# Each in-process task queued or running, with what it is ("name(args)"), so a wait that times out can say which.
_embedded_pending: dict[Future, str] = {}
# kombu's virtual (Redis) transport channels are not thread-safe, and services
# run on several threads of the web process at once: publish one at a time.
_publish_lock = threading.Lock()


def _task_label(task: Task, args: tuple) -> str:
    return f"{task.name}{args!r}"


def _embedded_forget(future: Future) -> None:
    _embedded_pending.pop(future, None)


def _run_eagerly(task: Task, args: tuple, kwargs: dict) -> None:
    result = task.apply(args=args, kwargs=kwargs)
    if result.failed():
        logger.error("embedded task %s failed: %r", task.name, result.result)


def task_named(name: str) -> Task:
    """The task registered as `name` (its `@shared_task(name=...)`).

    Lets a service queue its app's task without importing the tasks module,
    which imports the services: by name there is no import circle. On the first
    miss the app's tasks module is imported ("conversations.generate_reply"
    lives in conversations/tasks.py), so a name resolves in a web process and in
    embedded mode too. Not app.loader.import_default_modules(): Celery's Django
    fixup runs every system check on that signal, in the web process, on the
    first message.
    """
    if name not in app.tasks:
        package = name.rpartition(".")[0]
        try:
            importlib.import_module(package + ".tasks")
        except ModuleNotFoundError as exc:
            if exc.name not in (package, package + ".tasks"):
                raise  # the tasks module exists but an import inside it failed: say that, not "no such task"
    try:
        return app.tasks[name]
    except KeyError:
        raise LookupError(f"no Celery task is registered as {name!r}") from None


def enqueue(task: Task | str, *args: Any, **kwargs: Any) -> Future | None:
    """Send a task (or the task registered under a name) to its queue, or in embedded mode run it on a
    worker thread.

    Eager `.delay()` would run the task right here; called from a consumer that
    is the event loop's sync thread, and the task's own `async_to_sync` raises.
    A small thread pool keeps the web loop free while the reply streams.
    """
    if isinstance(task, str):
        task = task_named(task)
    if app.conf.task_always_eager:
        from django.conf import settings

        pool = aio.thread_pool("embedded-task", settings.EMBEDDED_TASK_THREADS)
        # Worker threads keep no stale database connection between tasks.
        future = pool.submit(aio.with_fresh_connections, _run_eagerly, (task, args, kwargs), {})
        _embedded_pending[future] = _task_label(task, args)
        future.add_done_callback(_embedded_forget)
        return future
    with _publish_lock:
        task.apply_async(args=args, kwargs=kwargs)
    return None


def enqueue_tolerant(task: Task | str, *args: Any, where: str) -> None:
    """Enqueue work that a sweeper sends again if it is lost (a webhook, an email): with Redis away it is left
    for the sweeper (counted and logged as `where`), and the caller, which has committed, does not fail."""
    from helpdesk.web import redisdown

    try:
        enqueue(task, *args)
    except Exception as exc:
        if not redisdown.redis_unavailable(exc):
            raise
        redisdown.unavailable_record(exc, where)


def enqueue_in(delay_s: float, task: Task | str, *args: Any) -> None:
    """Send a task to run `delay_s` from now (a retry's backoff). Celery's countdown in production; in embedded
    mode a timer of the web process queues it then (a retry waiting there is lost if the process stops)."""
    if isinstance(task, str):
        task = task_named(task)
    if not app.conf.task_always_eager:
        with _publish_lock:
            task.apply_async(args=args, countdown=max(0.0, delay_s))
        return
    # Counted as pending from now until the task it queues has run, so embedded_tasks_wait waits for it too.
    pending: Future = Future()
    _embedded_pending[pending] = f"{_task_label(task, args)} in {delay_s:g} s"
    pending.add_done_callback(_embedded_forget)

    def fire() -> None:
        try:
            queued = enqueue(task, *args)
        except Exception as exc:
            pending.set_exception(exc)
            return
        if queued is None:
            pending.set_result(None)
        else:
            queued.add_done_callback(lambda _: pending.set_result(None))

    timer = threading.Timer(max(0.0, delay_s), fire)
    timer.daemon = True
    timer.start()


def embedded_tasks_pending() -> int:
    """In-process tasks queued or running (embedded mode's generation queue depth)."""
    return len(_embedded_pending)


def generation_queue_depth() -> int | None:
    """Replies waiting for a generation worker (read by /metrics: the workers' autoscaling signal); None when
    Redis cannot be asked, so a scrape during an outage still succeeds and says so."""
    from django.conf import settings

    if settings.EMBEDDED:
        return embedded_tasks_pending()
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError

    try:
        # Celery's Redis transport keeps a queue's waiting messages in a list named after the queue.
        return int(get_redis_connection("default").llen("generation"))
    except RedisError:
        return None


# Each worker's main process writes a heartbeat per queue it consumes, a sorted set scored by time, which
# /metrics counts: a worker killed outright (or a host gone) stops writing, and the alert on
# helpdesk_celery_workers fires without anyone asking the workers (an inspect ping waits seconds per scrape).
_WORKERS_KEY = "helpdesk:workers:{queue}"
_heartbeat_stop = threading.Event()


@worker_ready.connect
def _worker_heartbeat_start(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    queues = sorted(queue.name for queue in sender.task_consumer.queues) if sender.task_consumer else []
    if not settings.REDIS_URL or not queues or settings.WORKER_HEARTBEAT_S <= 0:
        return
    _heartbeat_stop.clear()
    threading.Thread(target=_worker_heartbeat, args=(sender.hostname, queues, settings.WORKER_HEARTBEAT_S),
                     name="helpdesk-worker-heartbeat", daemon=True).start()


@worker_shutdown.connect
def _worker_heartbeat_stop(sender: Any = None, **kwargs: Any) -> None:
    """A worker stopping on purpose leaves the count at once (a killed one after its heartbeat expires)."""
    from django.conf import settings

    _heartbeat_stop.set()
    if not settings.REDIS_URL or sender is None:
        return
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError

    with contextlib.suppress(RedisError):
        redis = get_redis_connection("default")
        for queue in ("generation", "logging", "knowledge"):
            redis.zrem(_WORKERS_KEY.format(queue=queue), sender.hostname)


def _worker_heartbeat(hostname: str, queues: list[str], interval: float) -> None:
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError

    while not _heartbeat_stop.is_set():
        try:
            _worker_heartbeat_write(get_redis_connection("default"), hostname, queues, interval)
        except RedisError as exc:  # an outage: the next beat tries again
            logger.warning("worker heartbeat not written: %s", exc)
        _heartbeat_stop.wait(interval)


def _worker_heartbeat_write(redis: Any, hostname: str, queues: list[str], interval: float) -> None:
    """One heartbeat, by Redis's clock (as workers_alive reads it): a step of a host's clock (NTP) neither hides
    a live worker nor keeps a dead one counted for the step's length."""
    now = redis_clock(redis)
    for queue in queues:
        key = _WORKERS_KEY.format(queue=queue)
        redis.zadd(key, {hostname: now})
        redis.zremrangebyscore(key, "-inf", now - 30 * interval)  # long gone: forget


def workers_alive() -> dict[str, int] | None:
    """Workers whose heartbeat on each queue is fresh (three intervals); None in embedded mode (tasks run in the
    web process) and when Redis cannot be asked."""
    from django.conf import settings

    if settings.EMBEDDED or settings.WORKER_HEARTBEAT_S <= 0:
        return None
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError

    try:
        redis = get_redis_connection("default")
        fresh_since = redis_clock(redis) - 3 * settings.WORKER_HEARTBEAT_S
        return {queue.name: int(redis.zcount(_WORKERS_KEY.format(queue=queue.name), fresh_since, "+inf"))
                for queue in app.conf.task_queues}
    except RedisError:
        return None


def embedded_tasks_wait(timeout: float = 30.0) -> list[str]:
    """Block until the in-process tasks have finished, those they queue (a retry after its backoff) included
    (embedded mode; used by tests and `load_demo`); returns the tasks still pending when `timeout` ran out."""
    deadline = time.monotonic() + timeout
    while _embedded_pending and (left := deadline - time.monotonic()) > 0:
        wait_futures(list(_embedded_pending), timeout=left)
    return sorted(_embedded_pending.values())


def embedded_tasks_abandon() -> None:
    """Stop counting the in-process tasks still pending: a test that left one fails alone, and the tests after
    it do not each wait for it again."""
    _embedded_pending.clear()


class ClockStepSafeScheduler(PersistentScheduler):
    """Celery beat's scheduler (CELERY_BEAT_SCHEDULER), unstalled by a step back of the wall clock (NTP).

    Beat keeps each entry's last run by the wall clock; after a step back its last runs lie in the future and
    it would send nothing (the reply sweeper included) until the clock caught up, the step's length later. A
    last run found in the future counts as a run now: the entry's next run is one interval away.
    """

    def tick(self, *args: Any, **kwargs: Any) -> float:
        stepped = False
        for entry in self.schedule.values():
            now = entry.default_now()
            if entry.last_run_at is not None and entry.schedule.maybe_make_aware(entry.last_run_at) > now:
                entry.last_run_at, stepped = now, True
        if stepped:
            logger.warning("beat: the clock stepped back; the schedule goes on from now")
            self._heap = None  # rebuilt from the entries' last runs
        return super().tick(*args, **kwargs)


_beat_started = False


def embedded_beat_start(schedule: dict[str, dict[str, Any]] | None = None) -> threading.Event | None:
    """In embedded mode, run the beat schedule (CELERY_BEAT_SCHEDULE: the reply sweeper, the Ollama nodes'
    health check) on a thread of this process, the one that serves the websockets: its tasks run on the
    in-process task threads and reach the sockets through the in-memory channel layer.

    Once per process; returns the event that stops it, or None when not embedded, when EMBEDDED_BEAT is
    off (the test suite) or when it already runs.
    """
    global _beat_started
    from django.conf import settings

    if not app.conf.task_always_eager or not settings.EMBEDDED_BEAT or _beat_started:
        return None
    _beat_started = True
    stop = threading.Event()
    entries = list((schedule or app.conf.beat_schedule).values())
    threading.Thread(target=_embedded_beat, args=(entries, stop), name="embedded-beat", daemon=True).start()
    return stop


def _embedded_beat(entries: list[dict[str, Any]], stop: threading.Event) -> None:
    global _beat_started
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker imports them at start
    every = [e["schedule"].total_seconds() if isinstance(e["schedule"], timedelta) else float(e["schedule"])
             for e in entries]
    due = [time.monotonic() + seconds for seconds in every]
    running: list[Future | None] = [None] * len(entries)
    while not stop.wait(min([0.5, *every])):
        now = time.monotonic()
        for index, entry in enumerate(entries):
            last = running[index]
            if now < due[index] or (last is not None and not last.done()):
                continue  # not yet, or its last run is still going: runs never pile up
            due[index] = now + every[index]
            try:
                running[index] = enqueue(entry["task"])
            except Exception:
                logger.exception("embedded beat: could not run %s", entry["task"])
    _beat_started = False
