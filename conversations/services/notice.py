"""The privacy notice the widget shows at the start of a chat (WIDGET_PRIVACY_NOTICE_URL): recording that it was."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from ..models import Conversation
from ..protocol.codes import ErrorCode, FrameError


def privacy_notice_record(*, conversation: Conversation, version: str) -> Conversation:
    """Record when the customer was shown the notice, with its version and link as configured now (never as the
    client says: the record must prove what this site showed). The first showing of a version stands; a new
    version is recorded when it is shown."""
    if not settings.WIDGET_PRIVACY_NOTICE_URL:
        raise FrameError(ErrorCode.BAD_FRAME, "no privacy notice is configured")
    if version != settings.WIDGET_PRIVACY_NOTICE_VERSION:
        raise FrameError(ErrorCode.BAD_FRAME, "that is not the current privacy notice's version")
    if conversation.privacy_notice_version != version:
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(
            privacy_notice_shown_at=now,
            privacy_notice_version=version,
            privacy_notice_url=settings.WIDGET_PRIVACY_NOTICE_URL,
        )
        conversation.refresh_from_db(fields=["privacy_notice_shown_at", "privacy_notice_version", "privacy_notice_url"])
    return conversation
