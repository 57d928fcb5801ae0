from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """The project package is an app too, for its management commands (`serve`, `ensure_demo_admin`)."""

    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from helpdesk.logs import install_record_factory
        from helpdesk.warmup import warmer_register

        install_record_factory()
        warmer_register("database", _database_warm)
        warmer_register("model profiles", _profiles_warm)
        warmer_register("ollama nodes", _nodes_warm)


def _database_warm() -> None:
    """Open this process's connection pool (its first connection costs a TCP and authentication round trip)."""
    from django.db import connection

    connection.ensure_connection()


def _profiles_warm() -> None:
    from helpdesk import profiles

    profiles.profile_default()
    profiles.configured_chat_models()


def _nodes_warm() -> None:
    """The nodes' health (probed now when the shared record is stale), so routing knows where to send a reply."""
    from helpdesk import ollama as gateway

    gateway.nodes_status()
