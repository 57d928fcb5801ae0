"""Whether one case's reply met its expectation, and why not: pure functions of plain values.

Kept apart from running a case so the rules read in one place and are tested without a model: what the
pipeline did goes in as an `Observed`, what the case expects as an `Expected`, and the verdict is a list of
human-readable failures (none: passed).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..models import Expectation
from ..protocol.codes import HandoffReason


@dataclass
class Expected:
    """What a case asks of the reply (stored with each result as `EvalResult.expected`)."""

    expectation: str
    articles: list[int] = field(default_factory=list)  # any of these cited is right
    faq: int | None = None
    must_include: list[str] = field(default_factory=list)
    must_not_include: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"articles": self.articles, "faq": self.faq, "must_include": self.must_include,
                "must_not_include": self.must_not_include}


@dataclass
class Observed:
    """What the pipeline did with the question: its reply (if any) and the conversation's handoff."""

    replied: bool = False  # the bot wrote a reply (a request for a person hands off before any)
    answer: str = ""
    answer_source: str = ""
    cited: list[int] = field(default_factory=list)  # article ids the reply cited
    faq_id: int | None = None  # the FAQ entry that answered, if one did
    confidence: float | None = None
    handoff_reason: str = ""
    declined: bool = False


def reply_declined(*, retrieval: dict[str, Any], signals: dict[str, Any]) -> bool:
    """Whether a reply says the bot cannot help here rather than answering: marked `declined` by the pipeline
    (out of scope), or the model's own no-answer marker."""
    return bool(retrieval.get("declined") or signals.get("declined") or signals.get("no_answer_marker"))


def normalised(text: str) -> str:
    """For comparing facts: full-width digits, letters and spaces as their ASCII forms, spaces collapsed,
    case ignored ("４８ 小时" matches "48 小时", "48 Hours" matches "48 hours")."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def fact_failures(answer: str, *, must_include: list[str], must_not_include: list[str]) -> list[str]:
    said = normalised(answer)
    failures = [f"missing: {fact}" for fact in must_include if normalised(fact) not in said]
    failures += [f"must not say: {fact}" for fact in must_not_include if normalised(fact) in said]
    return failures


def case_failures(expected: Expected, observed: Observed, *, ignore_low_confidence: bool = False) -> list[str]:
    """Why the reply does not meet the case's expectation; [] when it does.

    `ignore_low_confidence`: judge the reply as if it had been given although its confidence handed the
    conversation on (what calibration asks: would this reply have been right?)."""
    match expected.expectation:
        case Expectation.DECLINE:
            if observed.handoff_reason or observed.declined:
                return []
            return ["answered instead of declining or handing off"]
        case Expectation.PERSON:
            if observed.handoff_reason == HandoffReason.CUSTOMER_REQUEST:
                return []
            got = observed.handoff_reason or ("declined" if observed.declined else "answered")
            return [f"not handed off for the customer's request ({got})"]
    return _answer_failures(expected, observed, ignore_low_confidence=ignore_low_confidence)


def _answer_failures(expected: Expected, observed: Observed, *, ignore_low_confidence: bool) -> list[str]:
    """An answer (from articles, or from an FAQ entry): given, not declined, from the right knowledge, with the
    facts it must have and none it must not."""
    failures = []
    handoff = observed.handoff_reason
    if handoff and not (ignore_low_confidence and handoff == HandoffReason.LOW_CONFIDENCE):
        failures.append(f"handed off: {handoff}")
    if not observed.replied:
        return failures or ["no reply"]
    if observed.declined:
        failures.append("declined")
    if expected.expectation == Expectation.FAQ:
        if observed.answer_source != "faq" or observed.faq_id != expected.faq:
            failures.append("not answered by the expected FAQ entry")
    elif expected.articles and not set(expected.articles) & set(observed.cited):
        failures.append("cited no expected article")
    failures += fact_failures(
        observed.answer, must_include=expected.must_include, must_not_include=expected.must_not_include
    )
    return failures


def reply_correct(expected: Expected, observed: Observed) -> bool | None:
    """Whether the reply the bot gave (or would have given, but for its low confidence) is right; None when it
    gave none to judge (no reply, no confidence, or handed off for another reason). What the confidence's
    AUC, the reliability table and the calibration measure."""
    if not observed.replied or observed.confidence is None:
        return None
    if observed.handoff_reason not in ("", HandoffReason.LOW_CONFIDENCE):
        return None
    if observed.declined:
        return None  # the fixed decline is no answer: its confidence is a constant, not the bot's belief in it
    if expected.expectation in (Expectation.DECLINE, Expectation.PERSON):
        return False  # an answer where the right thing was none
    return not case_failures(expected, observed, ignore_low_confidence=True)
