"""The agents app's entries in the personal-data registry (helpdesk.privacy), made in AppConfig.ready()."""

from __future__ import annotations

from helpdesk.privacy import PersonalDataHolder, holder_register


def personal_data_register() -> None:
    """The audit trail names the conversation each event was about; it expires on the "audit" period."""
    from .models import AuditEvent

    holder_register(PersonalDataHolder(model=AuditEvent, conversation_lookup="conversation_id", retention="audit"))
