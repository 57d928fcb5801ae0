from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from helpdesk.warmup import warmer_register

        warmer_register("reply pipeline", _pipeline_warm)


def _pipeline_warm() -> None:
    """Import what the first message imports lazily: the direct-answer look-up (from services) and the tasks,
    which import the pipeline's modules."""
    from . import pipeline, tasks  # noqa: F401
