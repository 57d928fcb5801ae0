"""What a moderation hit does (conversations.moderation): its record (a ModerationHit per term, the message
flagged for the agents, the /metrics counter) and, for a customer message the bot has, the refusal or the
handoff its category calls for."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk.observability import metrics

from ..models import Conversation, Message, ModerationAction, ModerationCategory, ModerationHit, ModerationTerm
from ..moderation.lists import category_action
from ..moderation.matching import Match, Term, term_key
from ..notices import MODERATION_HANDOFF_NOTICE, MODERATION_REFUSED_NOTICE, notice_in
from ..protocol.codes import HandoffReason
from .handoff import conversation_request_human
from .posting import system_message_post


def moderation_record(
    *, message: Message, matches: Sequence[Match], where: str, acted: bool = True, source: str = "list"
) -> list[ModerationHit]:
    """Store one hit per term found in `message` and mark the message flagged with their categories. `acted`:
    the term's action was carried out (off when a person already has the conversation: then it is a flag)."""
    if not matches:
        return []
    hits = ModerationHit.objects.bulk_create(
        [
            ModerationHit(
                message=message,
                term_id=match.term.id,
                category=match.term.category,
                where=where,
                source=source,
                action=match.term.action if acted else ModerationAction.FLAG,
            )
            for match in matches
        ]
    )
    categories = sorted({*filter(None, message.flagged.split(",")), *(hit.category for hit in hits)})
    message.flagged = ",".join(categories)[:64]
    Message.objects.filter(pk=message.pk).update(flagged=message.flagged)
    if not message.conversation.evaluation:  # an evaluation run's traffic is not the product's
        counted = [(hit.category, hit.where, hit.action) for hit in hits]
        transaction.on_commit(
            lambda: [
                metrics.moderation_hit(category=category, where=place, action=action)
                for category, place, action in counted
            ]
        )
    return hits


def moderation_act(*, conversation: Conversation, action: str, language: str) -> Conversation:
    """Refuse the customer's message politely (the bot keeps the conversation), or hand it to a person; a flag
    changes nothing here. Returns the conversation as it now is."""
    if action == ModerationAction.HANDOFF:
        notice = notice_in(language, MODERATION_HANDOFF_NOTICE)
        return conversation_request_human(conversation=conversation, reason=HandoffReason.MODERATION, notice=notice)
    if action == ModerationAction.REFUSE:
        system_message_post(conversation=conversation, text=notice_in(language, MODERATION_REFUSED_NOTICE))
    return conversation


def moderation_model_hit(*, customer_message: Message, category: str, language: str) -> bool:
    """The moderation model put a customer message in `category`: recorded like a list's hit (no term), and its
    category's action carried out while the bot has the conversation. Returns whether the reply must stop."""
    action = category_action(category)
    term = Term(id=None, text="", category=category, action=action, stops=action != ModerationAction.FLAG)
    with transaction.atomic():
        conversation = Conversation.objects.get(pk=customer_message.conversation_id)
        acted = term.stops and conversation.status == Conversation.Status.BOT
        moderation_record(
            message=customer_message,
            matches=[Match(term, 0, 0)],
            where=ModerationHit.Where.INBOUND,
            acted=acted,
            source="model",
        )
        if acted:
            moderation_act(conversation=conversation, action=action, language=language)
    return acted


def terms_import(rows: Sequence[dict[str, str]]) -> tuple[int, int]:
    """Add the terms of `rows` (text, and optionally category, kind, languages, pattern), updating a term already
    listed (same text, pattern flag and category). Returns (added, updated). Raises ValueError, naming the row,
    for an unknown category or kind, a term with no letter or digit, or a bad pattern: nothing is imported then."""
    added = updated = 0
    with transaction.atomic():
        for number, row in enumerate(rows, start=1):
            text = (row.get("text") or "").strip()
            is_pattern = (row.get("pattern") or "").strip().lower() in {"1", "true", "yes", "pattern"}
            fields = {
                "kind": (row.get("kind") or ModerationTerm.Kind.BLOCKED).strip(),
                "languages": (row.get("languages") or "").replace(" ", ""),
                "enabled": True,
                "note": (row.get("note") or "").strip(),
            }
            term = ModerationTerm(
                text=text,
                is_pattern=is_pattern,
                category=(row.get("category") or ModerationCategory.OTHER).strip(),
                **fields,
            )
            try:
                if not is_pattern and not term_key(text):
                    raise ValidationError({"text": "no letter or digit"})
                term.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                raise ValueError(f"row {number} ({text!r}): {'; '.join(exc.messages)}") from None
            _, created = ModerationTerm.objects.update_or_create(
                text=text, is_pattern=is_pattern, category=term.category, defaults=fields
            )
            added, updated = added + created, updated + (not created)
    return added, updated
