"""The contact page's rows: a customer's conversations (conversations.selectors.contacts) with their times in
local time and their statuses in the page's language."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

STATUS_LABELS = {"bot": gettext_noop("With the bot"), "waiting_human": gettext_noop("Waiting for a human"),
                 "human": gettext_noop("With an agent"), "resolved": gettext_noop("Resolved")}


def contact_rows(*, conversations: list[dict[str, Any]], lang: str, tz: tzinfo) -> list[dict[str, Any]]:
    with translation.override(lang):
        return [
            {
                **row,
                "started": f"{datetime.fromisoformat(row['created_at']).astimezone(tz):%Y-%m-%d %H:%M}",
                "status_label": _(STATUS_LABELS[row["status"]]) if row["status"] in STATUS_LABELS else row["status"],
                "channel_label": _("Website") if row["channel"] == "web" else row["channel"],
            }
            for row in conversations
        ]
