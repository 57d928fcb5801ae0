"""conversations.evaluation.judging: what passes for each expectation, and why a reply fails."""

from __future__ import annotations

from conversations.evaluation.judging import (
    Expected,
    Observed,
    case_failures,
    normalised,
    reply_correct,
    reply_declined,
)


def answer(**fields: object) -> Observed:
    fields.setdefault("replied", True)
    fields.setdefault("answer_source", "llm")
    fields.setdefault("confidence", 0.8)
    return Observed(**fields)  # type: ignore[arg-type]


SHIPPING = Expected("answer", articles=[7, 9], must_include=["48 hours"], must_not_include=["¥99"])


def test_an_answer_citing_an_expected_article_with_its_facts_passes() -> None:
    reply = answer(answer="Orders ship within 48 Hours [1].", cited=[3, 9])
    assert case_failures(SHIPPING, reply) == []


def test_an_answer_fails_for_each_thing_it_gets_wrong() -> None:
    reply = answer(answer="Shipping costs ¥99.", cited=[3])
    assert case_failures(SHIPPING, reply) == ["cited no expected article", "missing: 48 hours", "must not say: ¥99"]


def test_facts_match_across_full_width_digits_spaces_and_case_in_both_languages() -> None:
    expected = Expected("answer", must_include=["48 小时", "3-5 working days"])
    reply = answer(answer="我们会在４８\u3000小时内发货，退款 3-5 Working  Days 到账。")
    assert case_failures(expected, reply) == []
    assert normalised("ＡＢＣ　１２３") == "abc 123"


def test_an_answer_handed_off_or_declined_fails_even_when_it_cites_right() -> None:
    handed = answer(answer="48 hours [1]", cited=[7], handoff_reason="low_confidence")
    assert case_failures(SHIPPING, handed) == ["handed off: low_confidence"]
    declined = answer(answer="I can't help with that here, 48 hours", cited=[7], declined=True)
    assert case_failures(SHIPPING, declined) == ["declined"]


def test_an_answer_case_without_a_reply_fails_with_the_handoff() -> None:
    assert case_failures(SHIPPING, Observed(handoff_reason="customer_request")) == ["handed off: customer_request"]
    assert case_failures(SHIPPING, Observed()) == ["no reply"]


def test_an_faq_case_passes_only_when_its_entry_answered() -> None:
    expected = Expected("faq", faq=4)
    assert case_failures(expected, answer(answer="On the order page.", answer_source="faq", faq_id=4)) == []
    assert case_failures(expected, answer(answer="On the order page.", answer_source="faq", faq_id=5)) == [
        "not answered by the expected FAQ entry"
    ]
    assert case_failures(expected, answer(answer="On the order page.", cited=[1])) == [
        "not answered by the expected FAQ entry"
    ]


def test_a_decline_case_passes_when_handed_off_for_any_reason_or_declined() -> None:
    expected = Expected("decline")
    assert case_failures(expected, answer(answer="I can't help with that.", declined=True)) == []
    assert case_failures(expected, answer(answer="Maybe", handoff_reason="low_confidence")) == []
    assert case_failures(expected, Observed(handoff_reason="customer_request")) == []
    assert case_failures(expected, answer(answer="The weather on Mars is cold.")) == [
        "answered instead of declining or handing off"
    ]


def test_a_person_case_passes_only_when_handed_off_at_the_customers_request() -> None:
    expected = Expected("person")
    assert case_failures(expected, Observed(handoff_reason="customer_request")) == []
    assert case_failures(expected, answer(answer="Hi", handoff_reason="low_confidence")) == [
        "not handed off for the customer's request (low_confidence)"
    ]
    assert case_failures(expected, answer(answer="Hello!")) == ["not handed off for the customer's request (answered)"]


def test_a_reply_is_declined_when_the_pipeline_or_the_model_says_so() -> None:
    assert reply_declined(retrieval={"declined": True}, signals={})
    assert reply_declined(retrieval={}, signals={"declined": True})
    assert reply_declined(retrieval={}, signals={"no_answer_marker": True})
    assert not reply_declined(retrieval={"query": "hi"}, signals={"cited": True})


def test_a_reply_withheld_for_low_confidence_is_judged_as_if_given() -> None:
    right = answer(answer="within 48 hours [1]", cited=[7], handoff_reason="low_confidence", confidence=0.4)
    assert reply_correct(SHIPPING, right) is True
    assert reply_correct(SHIPPING, answer(answer="¥99", cited=[7])) is False
    assert reply_correct(Expected("decline"), answer(answer="It is sunny on Mars.")) is False
    # a decline is judged by the out-of-scope figures, not as an answer the confidence speaks for
    assert reply_correct(Expected("decline"), answer(answer="I can't help with that here.", declined=True)) is None


def test_no_reply_or_one_handed_off_for_another_reason_is_not_judged() -> None:
    assert reply_correct(SHIPPING, Observed(handoff_reason="customer_request")) is None
    assert reply_correct(SHIPPING, answer(answer="48 hours", cited=[7], handoff_reason="unverified_fact")) is None
    assert reply_correct(SHIPPING, answer(answer="48 hours", cited=[7], confidence=None)) is None
