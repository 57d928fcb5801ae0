from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HelpdeskConfig(AppConfig):
    """The project package is an app too, for its management commands (`serve`, `ensure_demo_admin`)."""

    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from helpdesk.llm.profiles import profiles_kept
        from helpdesk.models import ModelProfile
        from helpdesk.observability.logs import install_record_factory
        from helpdesk.runtime.warmup import warmer_register

        install_record_factory()
        # Every process reads the profiles again for its next reply (helpdesk.runtime.versioned).
        post_save.connect(profiles_kept.changed, sender=ModelProfile, dispatch_uid="helpdesk.profile_saved")
        post_delete.connect(profiles_kept.changed, sender=ModelProfile, dispatch_uid="helpdesk.profile_deleted")
        warmer_register("database", _database_warm)
        warmer_register("model profiles", _profiles_warm)
        warmer_register("ollama nodes", _nodes_warm)
        warmer_register("database threads", _database_threads_warm, kinds=("web",))
        warmer_register("task queues", _task_queues_warm, kinds=("web",))
        warmer_register("reply stream", _reply_stream_warm, kinds=("worker",))


def _database_warm() -> None:
    """Open this process's connection pool (its first connection costs a TCP and authentication round trip)."""
    from django.db import connection

    connection.ensure_connection()


def _profiles_warm() -> None:
    from helpdesk.llm import profiles

    profiles.profile_default()
    profiles.configured_chat_models()


def _nodes_warm() -> None:
    """The nodes' health (probed now when the shared record is stale), so routing knows where to send a reply."""
    from helpdesk.llm import ollama as gateway

    gateway.nodes_status()



async def _channel_layer_warm() -> None:
    """The channel layer's Redis connection, which it keeps per event loop."""
    from channels.layers import get_channel_layer

    await get_channel_layer().group_send("warm-up", {"type": "warm.up"})


def _database_threads_warm() -> None:
    """Each of the threads that run the websockets' database work (helpdesk.runtime.aio.db_call) started, with a
    pooled connection; and the channel-layer connection of the loop a stored message is published from
    (helpdesk.runtime.aio.run)."""
    import threading
    from concurrent.futures import wait

    from django.conf import settings
    from django.db import connection

    from helpdesk.runtime import aio

    count = settings.DATABASE_THREADS
    everyone_started = threading.Barrier(count)

    def one() -> None:
        everyone_started.wait(timeout=30)  # so that every thread of the pool gets one
        connection.ensure_connection()
        connection.close()

    aio.run(_channel_layer_warm())
    pool = aio.thread_pool("db", count)
    for future in wait([pool.submit(one) for _ in range(count)]).done:
        future.result()


def _task_queues_warm() -> None:
    """The broker connection the first reply is queued on, with its queues declared; and what Celery builds on
    the first task sent: the app finalized (its tasks bound), its result backend (looked up among the installed
    packages' entry points) and its message sender. Those made the first customer's reply wait 14-21 ms longer
    to be queued than the next one's (1-2 ms)."""
    from django.conf import settings

    if settings.EMBEDDED:
        return
    from helpdesk.celery import app

    app.finalize(auto=True)
    app.backend, app.amqp.send_task_message, app.amqp.router  # noqa: B018 - lazy properties: reading them warms
    with app.producer_or_acquire() as producer:
        for queue in app.amqp.queues.values():
            producer.maybe_declare(queue)


def _reply_stream_warm() -> None:
    """On the loop replies stream on (the process's stream loop, helpdesk.runtime.aio.run_shared): the Ollama
    clients and their connections (and the servers' versions, asked once per node), and the channel layer's
    connection."""
    from django.conf import settings

    from helpdesk.llm import ollama as gateway
    from helpdesk.runtime import aio

    async def warm() -> None:
        for host in settings.OLLAMA_HOSTS:
            await gateway.server_version(host)
        await _channel_layer_warm()

    aio.run_shared(warm())


class HelpdeskAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the site that can ask for a second factor (helpdesk.web.signin.HelpdeskAdminSite)."""

    default = False  # named in full in INSTALLED_APPS
    default_site = "helpdesk.web.signin.HelpdeskAdminSite"
