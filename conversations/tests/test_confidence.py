"""The confidence rule: each signal moves it the way it should, and decides the handoff."""

from __future__ import annotations

import pytest

from conversations import confidence
from conversations.confidence import Signals
from knowledge.retrieval.relevance import relevance_of


def llm(**changes: object) -> Signals:
    base = {"answer_source": "llm", "status": "complete", "sources_given": 3, "cited": True,
            "relevance": 0.8, "relevance_gap": 0.2, "coverage": 1.0}
    return Signals(**{**base, **changes})


def test_a_cited_answer_from_a_clearly_relevant_source_is_confident() -> None:
    assert confidence.score(llm()) >= 0.9
    assert confidence.handoff_reason(llm(), confidence.score(llm()), threshold=0.5) == ""


@pytest.mark.parametrize(
    ("weaker", "stronger"),
    [
        (llm(cited=False), llm()),
        (llm(relevance=0.2), llm()),
        (llm(relevance_gap=0.0), llm()),
        (llm(coverage=0.3), llm()),
        (llm(truncated=True), llm()),
        (llm(sources_given=0, relevance=None, coverage=None), llm(sources_given=0, small_talk="greeting")),
    ],
)
def test_each_signal_moves_the_confidence(weaker: Signals, stronger: Signals) -> None:
    assert confidence.score(weaker) < confidence.score(stronger)


def test_the_no_answer_marker_hands_off_for_missing_knowledge() -> None:
    signals = llm(no_answer_marker=True)
    assert confidence.score(signals) == 0.1
    assert confidence.handoff_reason(signals, 0.1, threshold=0.5) == "no_knowledge"


def test_weak_uncited_answer_hands_off_as_low_confidence() -> None:
    signals = llm(cited=False, relevance=0.1, relevance_gap=0.0)
    value = confidence.score(signals)
    assert value < 0.5 and confidence.handoff_reason(signals, value, threshold=0.5) == "low_confidence"


def test_failed_replies_hand_off_as_model_errors_and_stopped_ones_do_not() -> None:
    assert confidence.handoff_reason(llm(status="failed"), 0.0, threshold=0.5) == "model_error"
    assert confidence.handoff_reason(llm(status="cancelled"), None, threshold=0.5) == ""


def test_empty_reply_has_no_confidence() -> None:
    assert confidence.score(llm(empty=True)) == 0.0


def test_small_talk_without_sources_does_not_hand_off() -> None:
    signals = llm(sources_given=0, cited=False, relevance=None, relevance_gap=None, coverage=None,
                  small_talk="thanks")
    assert confidence.score(signals) == confidence.SMALL_TALK_CONFIDENCE
    assert confidence.handoff_reason(signals, confidence.score(signals), threshold=0.5) == ""


def test_an_answer_without_sources_that_is_not_small_talk_hands_off() -> None:
    signals = llm(sources_given=0, cited=False, relevance=None, relevance_gap=None, coverage=None)
    value = confidence.score(signals)
    assert value == confidence.NO_SOURCE_CONFIDENCE
    assert confidence.handoff_reason(signals, value, threshold=0.5) == "low_confidence"


def test_with_nothing_published_the_model_answers_as_for_small_talk() -> None:
    signals = llm(sources_given=0, cited=False, relevance=None, relevance_gap=None, coverage=None,
                  empty_knowledge_base=True)
    assert confidence.score(signals) == confidence.SMALL_TALK_CONFIDENCE


def test_a_declined_question_is_low_but_stays_with_the_bot() -> None:
    signals = Signals(answer_source="declined", status="complete", declined=True)
    value = confidence.score(signals)
    assert value == confidence.DECLINED_CONFIDENCE
    assert confidence.handoff_reason(signals, value, threshold=0.5) == ""


@pytest.mark.parametrize(("relevance", "coverage", "answered"), [
    (0.6, 0.67, True),  # an in-scope question's typical best source
    (0.32, 0.36, True),  # the weakest source the scope bars let through
    (0.65, 0.1, False),  # a strong keyword match covering a tenth of the question
    (0.45, 0.0, False),  # one shared word that is not even a content word
])
def test_coverage_separates_answers_from_spurious_matches(relevance, coverage, answered) -> None:
    signals = llm(relevance=relevance, coverage=coverage, relevance_gap=0.0)
    assert (confidence.handoff_reason(signals, confidence.score(signals), threshold=0.5) == "") is answered


def test_faq_and_cache_answers_are_trusted() -> None:
    assert confidence.score(Signals(answer_source="faq", status="complete", faq_how="exact")) == 1.0
    assert confidence.score(Signals(answer_source="faq", status="complete", faq_how="vector", faq_score=0.93)) == 0.93
    assert confidence.score(Signals(answer_source="cache", status="complete", cached_confidence=0.8)) == 0.8


def test_relevance_takes_the_stronger_of_vector_and_keyword_evidence(settings) -> None:
    settings.CONFIDENCE_VECTOR_FLOOR, settings.CONFIDENCE_VECTOR_CEILING = 0.4, 0.8
    assert relevance_of(vector_score=0.3, keyword_score=0) == 0.0
    assert relevance_of(vector_score=0.6, keyword_score=0) == pytest.approx(0.5)
    assert relevance_of(vector_score=None, keyword_score=4.0) == pytest.approx(0.5)
    assert relevance_of(vector_score=0.9, keyword_score=1.0) == 1.0


def test_a_reply_below_the_threshold_it_is_given_hands_off() -> None:
    signals = llm()
    value = confidence.score(signals)
    assert confidence.handoff_reason(signals, value, threshold=0.5) == ""
    assert confidence.handoff_reason(signals, value, threshold=0.99) == "low_confidence"


def test_an_unverified_fact_caps_the_confidence_and_hands_off_whatever_the_threshold() -> None:
    checked = llm(unverified_facts=0)
    assert confidence.score(checked) == confidence.score(llm())
    assert confidence.handoff_reason(checked, confidence.score(checked), threshold=0.5) == ""
    flagged = llm(unverified_facts=2)
    assert confidence.score(flagged) <= confidence.UNVERIFIED_CAP
    assert confidence.handoff_reason(flagged, confidence.score(flagged), threshold=0.1) == "unverified_fact"
    declined = llm(unverified_facts=1, no_answer_marker=True)
    assert confidence.handoff_reason(declined, 0.1, threshold=0.5) == "no_knowledge"


def test_a_sentence_the_judge_finds_unsupported_caps_and_hands_off_and_no_verdict_does_not() -> None:
    flagged = llm(judge_supported=0.5, judge_unsupported=["Smaller orders pay ¥5."])
    assert confidence.score(flagged) <= confidence.UNVERIFIED_CAP
    assert confidence.handoff_reason(flagged, confidence.score(flagged), threshold=0.1) == "unsupported_claim"
    unjudged = llm(judge_error="no answer within 10 s")
    assert confidence.score(unjudged) == confidence.score(llm())
    assert confidence.handoff_reason(unjudged, confidence.score(unjudged), threshold=0.5) == ""
