"""The reply pipeline's action step: before the answer is generated, look up what the customer asks about in
the company's system when the message's intent calls for an action (conversations.pipeline.reply).

The outcome is one of: nothing to do (the reply goes on as before); a result to give the model as source [1];
or a fixed reply instead of a generated one (sign in first, a proposal to confirm, "a colleague will help"
after a failed call, which hands off with reason `action_failed`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.template import Context, Engine, TemplateSyntaxError

from knowledge.retrieval.search import Hit

from ..models import Action, ActionCall, Message
from ..notices import (
    ACTION_APPROVAL_NOTICE,
    ACTION_DECLINED_NOTICE,
    ACTION_FAILED_NOTICE,
    ACTION_PROPOSAL_NOTICE,
    ACTION_SIGN_IN_NOTICE,
    notice_in,
)
from ..outcome import ReplyOutcome
from ..protocol.codes import HandoffReason
from ..selectors.actions import actions_for_intent, proposal_pending
from .calls import action_call_http
from .choice import action_choose

SIGN_IN, HANDOFF = "sign_in", "handoff"
_YES = re.compile(r"^\s*(?:yes|y|yeah|yep|ok|okay|sure|confirm(?:ed)?|go ahead|please do|do it|是|是的|好|好的|确认|"
                  r"可以|对|行|没问题)\s*[.!。！~]*\s*$", re.IGNORECASE)
_NO = re.compile(r"^\s*(?:no|n|nope|cancel|don'?t|stop|leave it|不|不要|不用|取消|算了|别)\s*[.!。！~]*\s*$",
                 re.IGNORECASE)
# A template has the data and nothing else: no autoescaping (this is text for a model, not HTML).
_ENGINE = Engine(autoescape=False)


@dataclass
class ActionHit(Hit):
    """An action's result as a numbered source: it sits among the knowledge base's hits in the prompt, is cited
    like them and checked like them (conversations.verification). Chosen for this very question by the model
    and made from the customer's own data, it counts as fully relevant."""

    action_call_id: int = 0


@dataclass
class ActionStep:
    sources: list[tuple[Hit, str]] = field(default_factory=list)
    outcome: ReplyOutcome | None = None  # a fixed reply instead of a generated one
    record: dict[str, Any] = field(default_factory=dict)  # for the reply's `retrieval`

    @property
    def used(self) -> bool:
        return bool(self.sources or self.outcome)


def action_step(
    *, bot_message: Message, customer_message: Message | None, question: str, masked_question: str, restore: Any,
    language: str, model: str, action_choice: str = "format",
) -> ActionStep:
    """What the actions make of the message being answered (see the module's docstring); `action_choice` is
    the profile's way of asking the model (conversations.actions.choice)."""
    conversation = bot_message.conversation
    if customer_message is None or conversation.evaluation:
        return ActionStep()
    pending = proposal_pending(conversation)
    if pending is not None and pending.action is not None:
        if _YES.match(question):
            return _run(pending.action, pending.arguments, bot_message=bot_message, language=language,
                        call=pending)
        if _NO.match(question):
            ActionCall.objects.filter(pk=pending.pk).update(status=ActionCall.Status.DECLINED)
            return ActionStep(outcome=_fixed(notice_in(language, ACTION_DECLINED_NOTICE),
                                             record={"actions": [pending.pk]}))
        # Anything else moves on: a "yes" much later, about something else, must not run it.
        ActionCall.objects.filter(pk=pending.pk).update(
            status=ActionCall.Status.DECLINED, error="lapsed: the customer wrote something else")
    candidates = actions_for_intent(customer_message.intent)
    if not candidates:
        return ActionStep()
    customer = conversation.customer
    usable = [action for action in candidates if customer is not None or not action.requires_verified_identity]
    if not usable:  # no call is made, nor a model asked, for someone the site has not signed in
        handoff = settings.ACTION_UNVERIFIED == HANDOFF
        notice = notice_in(language, ACTION_SIGN_IN_NOTICE)
        return ActionStep(outcome=_fixed(
            notice, handoff_reason=HandoffReason.ACTION_FAILED if handoff else "",
            record={"action_refused": "no verified customer", "action_candidates": [a.name for a in candidates]},
        ))
    # The model's choice and the call take seconds and need no database: the connection goes back to the pool
    # meanwhile (as for the stream, conversations.pipeline.reply), not held idle per reply.
    connection.close()
    choice = action_choose(usable, question=masked_question, model=settings.ACTION_MODEL or model, restore=restore,
                           mode=action_choice)
    if choice.action is None:
        return ActionStep(record={"action_choice": choice.error or "none"})
    if not choice.action.read_only:
        return _propose(choice.action, choice.arguments, bot_message=bot_message, language=language)
    return _run(choice.action, choice.arguments, bot_message=bot_message, language=language)


def _propose(action: Action, arguments: dict[str, Any], *, bot_message: Message, language: str) -> ActionStep:
    """A changing action never runs on the model's word: it waits for the customer's "yes" or an agent."""
    call = ActionCall.objects.create(action=action, action_name=action.name, conversation=bot_message.conversation,
                                     message=bot_message, arguments=arguments, status=ActionCall.Status.PROPOSED)
    record = {"actions": [call.pk], "action_proposed": action.name}
    if action.confirmation == Action.Confirmation.AGENT:
        notice = notice_in(language, ACTION_APPROVAL_NOTICE, action=action.name)
        return ActionStep(outcome=_fixed(notice, handoff_reason=HandoffReason.ACTION_APPROVAL, record=record))
    shown = ", ".join(f"{name} {value}" for name, value in arguments.items())
    notice = notice_in(language, ACTION_PROPOSAL_NOTICE, action=action.name, arguments=f"({shown})" if shown else "")
    return ActionStep(outcome=_fixed(notice, record=record))


def _run(action: Action, arguments: dict[str, Any], *, bot_message: Message, language: str,
         call: ActionCall | None = None) -> ActionStep:
    """Make the call with the verified customer's id, store it, and give its result as a source (or hand off)."""
    customer = bot_message.conversation.customer
    if customer is None and action.requires_verified_identity:  # a proposal outliving a sign-out: never
        return ActionStep(outcome=_fixed(notice_in(language, ACTION_SIGN_IN_NOTICE),
                                         record={"action_refused": "no verified customer"}))
    customer_id = customer.external_id if customer else ""
    connection.close()
    result = action_call_http(action, arguments, customer_id=customer_id)
    text = result_text(action, result.data) if result.ok else ""
    columns = {"status": ActionCall.Status.OK if result.ok else ActionCall.Status.FAILED,
               "response_status": result.status, "duration_ms": result.duration_ms, "error": result.error,
               "result": text, "message": bot_message}
    if call is None:
        call = ActionCall.objects.create(action=action, action_name=action.name,
                                         conversation=bot_message.conversation, arguments=arguments, **columns)
    else:
        for name, value in columns.items():
            setattr(call, name, value)
        call.save(update_fields=list(columns))
    record = {"actions": [call.pk]}
    if not result.ok:
        return ActionStep(outcome=_fixed(notice_in(language, ACTION_FAILED_NOTICE),
                                         handoff_reason=HandoffReason.ACTION_FAILED,
                                         record={**record, "action_error": f"{action.name}: {result.error}"}))
    title = action.source_title.strip() or action.name
    hit = ActionHit(chunk_id=0, article_id=0, title=title, url="", heading="", text=text, vector_score=1.0,
                    keyword_score=1.0, fused_score=1.0, coverage=1.0, article_coverage=1.0, language=language,
                    action_call_id=call.pk)
    return ActionStep(sources=[(hit, f"[1] {title}\n{text}")], record=record)


def result_text(action: Action, data: Any) -> str:
    """The result as the model reads it: the action's template over the JSON answer, or the JSON itself,
    trimmed to the action's result_max_chars either way."""
    text = ""
    if action.result_format == Action.ResultFormat.TEMPLATE and action.result_template.strip():
        try:
            context = data if isinstance(data, dict) else {"result": data}
            text = _ENGINE.from_string(action.result_template).render(Context(context)).strip()
        except TemplateSyntaxError as exc:
            text = f"(the action's result template is broken: {exc}) " + json.dumps(data, ensure_ascii=False)
    else:
        text = json.dumps(data, ensure_ascii=False)
    return text[: action.result_max_chars]


def _fixed(text: str, *, handoff_reason: str = "", record: dict[str, Any]) -> ReplyOutcome:
    """A reply no model writes, about an action; made from this customer's request, so never cached."""
    return ReplyOutcome(status=Message.Status.COMPLETE, content=text, answer_source=Message.AnswerSource.ACTION,
                        retrieval=record, total_ms=0.0, personal=True, handoff_reason=handoff_reason)
