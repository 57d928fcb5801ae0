from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from helpdesk.warmup import warmer_register

        warmer_register("reply pipeline", _pipeline_warm)


def _pipeline_warm() -> None:
    """Import what the first message imports lazily (the pipeline, from services, for direct answers)."""
    from . import pipeline, tasks  # noqa: F401
