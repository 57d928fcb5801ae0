from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HelpdeskConfig(AppConfig):
    """The project package is an app too, for its management commands (`serve`, `ensure_demo_admin`)."""

    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from helpdesk.logs import install_record_factory

        install_record_factory()


class HelpdeskAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the site that can ask for a second factor (helpdesk.signin.HelpdeskAdminSite)."""

    default = False  # named in full in INSTALLED_APPS
    default_site = "helpdesk.signin.HelpdeskAdminSite"
