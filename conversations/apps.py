from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_delete, post_save


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:

        from helpdesk.llm import profiles
        from helpdesk.observability import metrics
        from helpdesk.runtime.warmup import warmer_register
        from helpdesk.signals import knowledge_published, serve_starting

        from .evaluation.figures import metric_samples
        from .evaluation.gate import evaluation_gate
        from .models import Action, Label, ModerationTerm, WebhookEndpoint
        from .moderation.lists import actions_check, lists_changed
        from .privacy.holders import holders_register
        from .privacy.retention import retention_settings_check
        from .selectors.actions import actions_kept
        from .selectors.sla import sla_metric_samples
        from .selectors.teams import labels_exist_kept
        from .webhooks.emit import endpoints_kept

        if evaluation_gate not in profiles.promotion_gates:
            profiles.promotion_gates.append(evaluation_gate)
        for provider in (metric_samples, sla_metric_samples):
            if provider not in metrics.gauge_providers:
                metrics.gauge_providers.append(provider)
        knowledge_published.connect(_evaluation_after_publish, dispatch_uid="conversations.evaluation_after_publish")
        warmer_register("reply pipeline", _pipeline_warm)
        warmer_register("reply queries", _reply_queries_warm, kinds=("worker",))
        serve_starting.connect(_replies_abandoned_close, dispatch_uid="conversations.replies_abandoned_close")
        holders_register()
        checks.register(actions_check, "conversations")
        post_save.connect(lists_changed, sender=ModerationTerm, dispatch_uid="conversations.moderation_saved")
        post_delete.connect(lists_changed, sender=ModerationTerm, dispatch_uid="conversations.moderation_deleted")
        # The rows every reply reads but an admin rarely edits, kept per process (helpdesk.runtime.versioned).
        for model, kept in ((Action, actions_kept), (WebhookEndpoint, endpoints_kept), (Label, labels_exist_kept)):
            post_save.connect(kept.changed, sender=model, dispatch_uid=f"conversations.{model.__name__}_saved")
            post_delete.connect(kept.changed, sender=model, dispatch_uid=f"conversations.{model.__name__}_deleted")
        checks.register(retention_settings_check)


def _replies_abandoned_close(sender: object, **kwargs: object) -> str | None:
    """Replies cut off by the last stop, failed and handed to a person before `serve` starts anything: in
    production only those whose worker stopped writing (a worker on another host may still be streaming); in
    embedded mode every one (they died with the process)."""
    from django.conf import settings

    from .services.replies import replies_abandoned_fail

    if abandoned := replies_abandoned_fail(stale_only=not settings.EMBEDDED):
        return f"Closed {abandoned} reply(ies) interrupted by the last stop as failed; handed to a person."
    return None


def _evaluation_after_publish(sender: object, version: int | None = None, **kwargs: object) -> None:
    """Published knowledge changed: with EVAL_ON_PUBLISH, queue a run of the default set."""
    from .evaluation.schedule import evaluation_after_publish

    evaluation_after_publish(version=version)


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

    from helpdesk.runtime import aio

    from .selectors.replies import customer_message_for_reply
    from .services import replies

    customer_message_for_reply(message_id=0)
    connection.close()  # back to the pool, for the saving thread: a pool process's pool holds one
    aio.run(aio.db_call(replies.reply_progress_save, message_id=0, attempt=0, content=""))
