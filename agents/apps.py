from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agent console"

    def ready(self) -> None:
        from helpdesk.privacy import PersonalDataHolder, holder_register

        from .models import AuditEvent
        from .services import audit_events_anonymise

        # Who did what stays (erasure keeps the event, without the conversation and its details); the event
        # itself expires on the "audit" retention period.
        holder_register(PersonalDataHolder(
            model=AuditEvent, conversation_lookup="conversation_id", erase="anonymise",
            anonymise=audit_events_anonymise, retention="audit",
        ))
