from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """The project package is an app too, for its management commands (`serve`, `ensure_demo_admin`)."""

    name = "helpdesk"
    verbose_name = "Helpdesk"
