from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from helpdesk.warmup import warmer_register

        warmer_register("reply pipeline", _pipeline_warm)
        warmer_register("reply queries", _reply_queries_warm, kinds=("worker",))


def _pipeline_warm() -> None:
    """Import what the first message imports lazily: the direct-answer look-up (from services) and the tasks,
    which import the pipeline's modules."""
    from . import pipeline, tasks  # noqa: F401


def _reply_queries_warm() -> None:
    """A reply task's first look-up and its first progress save (on the thread that saves it while the reply
    streams), for a message that cannot exist: Django builds their SQL's pieces the first time, and PostgreSQL
    reads the tables' and indexes' descriptions into the one connection the pool process keeps. 5-10 ms the
    first reply task of each pool process waited for."""
    from django.db import connection

    from helpdesk import aio

    from .selectors import customer_message_for_reply
    from .services import replies

    customer_message_for_reply(message_id=0)
    connection.close()  # back to the pool, for the saving thread: a pool process's pool holds one
    aio.run(aio.db_call(replies.reply_progress_save, message_id=0, attempt=0, content=""))
