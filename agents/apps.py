from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agent console"

    def ready(self) -> None:
        from .privacy import personal_data_register

        personal_data_register()
