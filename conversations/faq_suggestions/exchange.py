"""Which question and which answer of a resolved conversation make an FAQ suggestion: plain functions of its
messages, so the rule is tested without a database.

The rule:
- the answer starts at the agent's first substantive message after the bot last spoke (a conversation the bot
  answered to the end, with no agent message after its last reply, suggests nothing), and is that message with the
  agent's following ones up to the customer's next message once the answer has reached
  FAQ_SUGGESTION_MIN_ANSWER_CHARS (so a "let me check" the customer acknowledged is read on to the real answer, and
  the "you're welcome" after the customer's thanks is not), and never past the customer's next question;
- the question is the customer's last run of substantive messages before the answer, uninterrupted by a reply:
  what led to the handoff. A reply in between with no substantive customer message after it is passed over, so a
  question the bot failed to answer, followed by "a person, please", is still the question; at most the last
  QUESTION_MESSAGES of the run, joined by spaces;
- only a run that asks for information makes a question: at least one of its messages is a question or a request
  to be told something (conversations.intents.asks_for_information), and none is a complaint or was flagged by
  moderation (abuse and the like). An agent's answer to a complaint (an apology, a replacement sent), to thanks or
  to a statement ("the parcel arrived broken", "我已经付款了") is no FAQ entry;
- substantive: a customer's message that is neither small talk (a greeting, thanks, "ok") nor a request for a
  person, an agent's message that is not small talk ("Hello!" is not the answer), by conversations.intents' rules;
  a customer message's stored intent (the intent model's, when it ran) counts as well as the rules;
- system notices and private notes are ignored; an answer shorter than the minimum, or no question at all,
  suggests nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..intents import Intent, asks_for_information, asks_for_person, intent_of, is_small_talk

CUSTOMER, BOT, AGENT = "customer", "bot", "agent"
# At most this many customer messages make the question (the last ones): a long story is not an FAQ question.
QUESTION_MESSAGES = 3


@dataclass(frozen=True)
class Turn:
    """One message as the rule reads it."""

    pk: int
    role: str  # "customer", "bot", "agent"; others are ignored
    text: str
    intent: str = ""  # a customer message's stored intent (conversations.intents.Intent), "" when not known
    flagged: str = ""  # the moderation categories it hit, comma-joined


@dataclass(frozen=True)
class Exchange:
    question: str
    answer: str
    answer_message_id: int  # the agent's first message of the answer: what the suggestion is anchored on


def substantive(text: str) -> bool:
    """A customer's message that asks something: neither small talk nor a request for a person."""
    text = text.strip()
    return bool(text) and not is_small_talk(text) and not asks_for_person(text)


def _said(turn: Turn) -> bool:
    """An agent's message that says something ("您好！" does not; "please contact customer service" does)."""
    return bool(turn.text.strip()) and not is_small_talk(turn.text)


def _answer_start(turns: Sequence[Turn]) -> int | None:
    last_bot = max((index for index, turn in enumerate(turns) if turn.role == BOT), default=-1)
    return next((index for index in range(last_bot + 1, len(turns))
                 if turns[index].role == AGENT and _said(turns[index])), None)


def _answer(turns: Sequence[Turn], start: int, *, min_answer_chars: int) -> str:
    parts: list[str] = []
    for turn in turns[start:]:
        if turn.role == CUSTOMER:
            if substantive(turn.text) or len("\n\n".join(parts)) >= min_answer_chars:
                break
        elif turn.role == AGENT and _said(turn):
            parts.append(turn.text.strip())
    return "\n\n".join(parts)


def _in_run(turn: Turn) -> bool:
    """A customer message that may be part of the question: substantive, by the rules and by its stored intent."""
    return substantive(turn.text) and turn.intent not in (Intent.PERSON, Intent.SMALL_TALK)


def _objection(turn: Turn) -> bool:
    """A complaint (stored, or by the rules) or a message moderation flagged: what the agent answered is no FAQ."""
    return turn.intent == Intent.COMPLAINT or bool(turn.flagged) or intent_of(turn.text) == Intent.COMPLAINT


def _question(turns: Sequence[Turn], start: int) -> str:
    run: list[Turn] = []
    for turn in reversed(turns[:start]):
        if turn.role == CUSTOMER:
            if _in_run(turn):
                run.insert(0, turn)
            continue
        if run:  # a reply before the run: the run is what the agent answered
            break
    kept = run[-QUESTION_MESSAGES:]
    if any(_objection(turn) for turn in run) or not any(asks_for_information(turn.text) for turn in kept):
        return ""
    return " ".join(turn.text.strip() for turn in kept)


def exchange_find(turns: Sequence[Turn], *, min_answer_chars: int) -> Exchange | None:
    """The conversation's question and the agent's answer to it (see the module's rule), or None."""
    turns = [turn for turn in turns if turn.role in (CUSTOMER, BOT, AGENT)]
    start = _answer_start(turns)
    if start is None:
        return None
    answer, question = _answer(turns, start, min_answer_chars=min_answer_chars), _question(turns, start)
    if not question or len(answer) < min_answer_chars:
        return None
    return Exchange(question=question, answer=answer, answer_message_id=turns[start].pk)
