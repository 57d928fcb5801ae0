from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from helpdesk.runtime.warmup import warmer_register

        warmer_register("knowledge snapshots", _snapshots_warm)


def _snapshots_warm() -> None:
    from .retrieval.snapshot import snapshots_warm

    snapshots_warm()
