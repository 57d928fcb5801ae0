"""knowledge.retrieval.similar (knowledge.selectors.faq_similar_find): the existing FAQ entry a suggested question
is close to, by embeddings where entries have vectors, by shared words (Chinese segmented) where they do not."""

from __future__ import annotations

import pytest

from knowledge import selectors
from knowledge.retrieval.similar import word_overlap
from knowledge.tests.factories import faq_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("first", "second", "close"), [
    ("How long does delivery take?", "How long does delivery usually take?", True),
    ("How long does delivery take?", "How long does a refund take?", False),
    ("How long does delivery take?", "Can I pay by invoice?", False),
    # Segmented differently ("退货/运费", "退/货运费"): the character pairs still match.
    ("退货的运费谁承担", "退货运费由谁承担？", True),
    ("退货的运费谁承担", "退货需要多久", False),
    ("退货的运费谁承担", "发票怎么开", False),
])
def test_word_overlap_counts_shared_words_and_segments_chinese(first, second, close, settings) -> None:
    overlap = word_overlap(first, second)
    assert (overlap >= settings.FAQ_SUGGESTION_KEYWORD_OVERLAP) is close
    assert word_overlap(first, first) == 1.0 and word_overlap(first, "") == 0.0


def test_without_vectors_a_question_sharing_most_words_finds_the_entry_in_its_language_only() -> None:
    faq = faq_create("How long does delivery take?", "Three days.", index=False)
    zh = faq_create("退货的运费谁承担", "质量问题由我们承担。", language="zh-hans", index=False)
    found = selectors.faq_similar_find(question="How long does delivery usually take?", language="en")
    assert found is not None and found.faq_id == faq.pk and found.how == "keywords"
    found = selectors.faq_similar_find(question="退货运费由谁承担？", language="zh-hans")
    assert found is not None and found.faq_id == zh.pk
    assert selectors.faq_similar_find(question="Can I pay by invoice?", language="en") is None
    assert selectors.faq_similar_find(question="How long does delivery usually take?", language="zh-hans") is None


def test_an_alternative_phrasing_counts_and_an_exact_one_needs_no_embedding(fake_ollama) -> None:
    faq = faq_create("Do you ship abroad?", "Yes.", alternatives=("Can you send my parcel to Canada?",))
    before = len(fake_ollama.embed_requests())
    found = selectors.faq_similar_find(question="can you send my parcel to canada", language="en")
    assert found is not None and (found.faq_id, found.how, found.score) == (faq.pk, "exact", 1.0)
    assert len(fake_ollama.embed_requests()) == before


@pytest.mark.django_db(transaction=True)
def test_entries_with_vectors_are_compared_by_embedding(fake_ollama, settings) -> None:
    faq = faq_create("How long does delivery take?", "Three days.")
    assert faq.embeddings
    settings.FAQ_SUGGESTION_KEYWORD_OVERLAP = 1.1  # words alone could never match: the vectors must
    found = selectors.faq_similar_find(question="How long does delivery take to Canada?", language="en")
    assert found is not None and found.faq_id == faq.pk and found.how == "vector" and found.score < 1
    assert fake_ollama.embed_requests()[-1].body["input"] == ["How long does delivery take to Canada?"]
    settings.FAQ_SUGGESTION_SIMILARITY = 0.99
    assert selectors.faq_similar_find(question="How long does delivery take to Canada?", language="en") is None


@pytest.mark.django_db(transaction=True)
def test_when_the_question_cannot_be_embedded_entries_with_vectors_fall_back_to_words(
    fake_ollama, dead_ollama_url, settings
) -> None:
    faq = faq_create("How long does delivery take?", "Three days.")
    assert faq.embeddings
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    found = selectors.faq_similar_find(question="How long does delivery usually take?", language="en")
    assert found is not None and found.faq_id == faq.pk and found.how == "keywords"
