"""The system notices a customer reads, as msgids of the message catalog (locale/), and `notice_in` to word
one in the customer's language.

A notice is stored as text in the language the customer wrote in, so it is translated when it is posted, not
when it is shown: `notice_in` switches to that language for the one call (`translation.override`).
Shared by the pipeline (which posts them when a reply fails) and the services (which post them on a handoff,
a status change, or when a stopped or stale reply is closed).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_noop

UNAVAILABLE_NOTICE = gettext_noop(
    "Our assistant is unavailable right now. Your message is saved and a colleague will get back to you."
)
INTERRUPTED_NOTICE = gettext_noop(
    "Sorry, the assistant's reply was interrupted. Your message is saved and a colleague will get back to you."
)
WITHHELD_NOTICE = gettext_noop(
    "Sorry, the assistant could not answer this one. A colleague will get back to you shortly."
)
UNVERIFIED_NOTICE = gettext_noop(
    "A colleague will confirm the details of this answer shortly. You can keep writing in the meantime."
)
HANDOFF_NOTICE = gettext_noop(
    "A colleague will join this conversation shortly. You can keep writing in the meantime."
)
# A complaint goes to a person at once (conversations.intents): say it is taken seriously, promise nothing.
COMPLAINT_NOTICE = gettext_noop(
    "We are sorry about this. A colleague will look into it personally and join this conversation shortly."
)
# %(hours)s: SUPPORT_HOURS and the time zone, e.g. "Mon-Fri 09:00-18:00 (Asia/Shanghai)".
OFF_HOURS_NOTICE = gettext_noop(
    "Our team is away right now; we are here %(hours)s. Leave your email address and we will write back, "
    "or keep writing: a colleague will read this conversation first thing."
)
# Moderation (conversations.moderation): a customer message refused, or handed to a person; a bot reply withdrawn.
MODERATION_REFUSED_NOTICE = gettext_noop(
    "Sorry, we cannot help with messages like this one. Please rephrase your question, or ask us about our "
    "products and services."
)
MODERATION_HANDOFF_NOTICE = gettext_noop(
    "Thank you for your message. A colleague will look at it and join this conversation shortly."
)
MODERATION_WITHHELD_NOTICE = gettext_noop(
    "Sorry, the assistant cannot answer this one suitably. Please rephrase your question, or ask for a colleague."
)
AGENT_JOINED_NOTICE = gettext_noop("%(name)s joined the conversation.")
BOT_RESUMED_NOTICE = gettext_noop("You are chatting with our assistant again.")
RESOLVED_NOTICE = gettext_noop("This conversation is resolved. How did we do? You can write again any time.")
CONTACT_THANKS_NOTICE = gettext_noop("Thanks, we will write to %(email)s.")


def notice_in(language: str, notice: str, **values: Any) -> str:
    """One of the notices above in `language` (a code of LANGUAGES), its %(name)s placeholders filled in."""
    with translation.override(language):
        text = translation.gettext(notice)
    return text % values if values else text
# Actions (conversations.actions): the bot looks something up in the shop's systems for a signed-in customer only.
ACTION_SIGN_IN_NOTICE = gettext_noop(
    "To look this up for you I need to know who you are: please sign in to your account on this site, then ask "
    "again here."
)
ACTION_FAILED_NOTICE = gettext_noop(
    "Sorry, I could not look this up in our system just now. A colleague will get back to you shortly."
)
ACTION_PROPOSAL_NOTICE = gettext_noop(
    'I can do this for you: %(action)s %(arguments)s. Reply "yes" to confirm, or "no" to leave it as it is.'
)
ACTION_APPROVAL_NOTICE = gettext_noop(
    "I have passed your request (%(action)s) to a colleague, who will check and confirm it shortly."
)
ACTION_DECLINED_NOTICE = gettext_noop("All right, I have left it as it is.")
# What an agent's approval or refusal of a proposed action (conversations.actions.approval) tells the customer,
# posted as the agent's own message; %(facts)s: the result's key facts, on lines of their own.
ACTION_APPROVED_NOTICE = gettext_noop("Done: your request (%(action)s) has been carried out.")
ACTION_APPROVED_FACTS_NOTICE = gettext_noop("Done: your request (%(action)s) has been carried out.\n%(facts)s")
ACTION_APPROVAL_FAILED_NOTICE = gettext_noop(
    "Sorry, your request (%(action)s) could not be carried out: our system did not complete it. I will look into "
    "it and get back to you here."
)
ACTION_AGENT_DECLINED_NOTICE = gettext_noop(
    "We have checked your request (%(action)s) and not carried it out: everything stays as it was."
)
