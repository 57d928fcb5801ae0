from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """The project package is an app too, for its management commands (`serve`, `ensure_demo_admin`)."""

    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from helpdesk.logs import install_record_factory

        install_record_factory()
