"""Hybrid retrieval on a small bilingual knowledge base, with embeddings from the fake Ollama."""

from __future__ import annotations

import logging

import pytest

from knowledge import embedding
from knowledge.retrieval.faq import FAQMatch, faq_match, faq_match_exact
from knowledge.retrieval.search import search
from knowledge.retrieval.terms import normalise_question, tokenize
from knowledge.services.articles import articles_delete, articles_publish, articles_unpublish
from knowledge.tests.factories import article_create, faq_create, knowledge_base_create

pytestmark = pytest.mark.django_db


def test_tokenize_segments_chinese_and_drops_stop_words() -> None:
    assert tokenize("退货的运费谁承担？") == ["退货", "运费", "谁", "承担"]
    assert tokenize("How do I return my parcels?") == ["return", "parcel"]


def test_normalise_question_ignores_case_punctuation_and_polite_padding() -> None:
    assert normalise_question("请问 运费多少钱？") == normalise_question("运费多少钱吗")
    normalise = normalise_question
    assert normalise("How much is shipping?!") == normalise("how much is SHIPPING")
    assert normalise_question("How much is shipping") != normalise_question("How much is delivery")


@pytest.mark.parametrize(
    ("question", "article", "heading"),
    [
        ("How long until my parcel arrives?", "Shipping and delivery", "Delivery times"),
        ("Is delivery free for big orders?", "Shipping and delivery", "Shipping fees"),
        ("Can I send tea back and get my money?", "Returns and refunds", "Returning an item"),
        ("How many days before the refund shows up?", "Returns and refunds", "Refund timing"),
        ("Do you take Mastercard?", "Payment methods", "Accepted cards and wallets"),
        ("退货的运费谁来出？", "退货与退款", "退货运费"),
        ("我要开增值税专用发票", "发票开具", "专用发票"),
        ("茶叶拆封了还能退货吗", "退货与退款", "退货期限"),
    ],
)
def test_paraphrased_question_ranks_the_right_chunk_first(fake_ollama, question, article, heading) -> None:
    knowledge_base_create()
    result = search(question)
    assert not result.keyword_only, result.note
    best = result.hits[0]
    assert (best.title, best.heading) == (article, heading)
    # Both rankings agree on it: neither half of the hybrid is dead weight.
    assert best.vector_rank == 1 and best.keyword_rank == 1
    assert best.vector_score > 0 and best.keyword_score > 0


def test_unrelated_question_finds_nothing(fake_ollama) -> None:
    knowledge_base_create()
    assert search("Who won the football match yesterday?").hits == []


def test_unreachable_embedding_model_falls_back_to_keywords_and_says_so(fake_ollama, caplog) -> None:
    knowledge_base_create()
    fake_ollama.state.models = ["deepseek-r1:7b"]  # bge-m3 is gone: /api/embed answers 404
    with caplog.at_level(logging.WARNING, logger="knowledge.retrieval.search"):
        result = search("Do you take Mastercard?")
    assert result.keyword_only
    assert "keyword-only" in result.note and "bge-m3" in result.note
    assert result.hits[0].title == "Payment methods" and result.hits[0].vector_score is None
    assert "keyword-only" in caplog.text


def test_unpublishing_removes_an_article_from_retrieval_at_once(fake_ollama) -> None:
    articles = knowledge_base_create()
    assert search("Do you take Mastercard?").hits[0].title == "Payment methods"
    articles_unpublish(article_ids=[articles["payment"].pk])
    assert all(hit.title != "Payment methods" for hit in search("Do you take Mastercard?").hits)
    articles_publish(article_ids=[articles["payment"].pk])
    assert search("Do you take Mastercard?").hits[0].title == "Payment methods"


def test_deleting_removes_an_article_from_retrieval_at_once(fake_ollama) -> None:
    articles = knowledge_base_create()
    articles_delete(article_ids=[articles["payment"].pk])
    assert all(hit.title != "Payment methods" for hit in search("Do you take Mastercard?").hits)


def test_drafts_are_not_retrieved(fake_ollama) -> None:
    article_create("payment", published=False)
    assert search("Do you take Mastercard?").hits == []


def test_changed_embedding_size_falls_back_to_keywords_until_reindexed(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.state.embed_dimensions = 128  # the model was swapped for one with another size
    result = search("Do you take Mastercard?")
    assert result.keyword_only and "reindex" in result.note
    assert result.hits[0].title == "Payment methods"


def test_faq_exact_match_needs_no_embedding(fake_ollama) -> None:
    faq_create("运费多少钱?", "满199元包邮。", language="zh-hans", index=False)
    match = faq_match_exact("请问，运费多少钱")
    assert match is not None and match.how == "exact" and match.answer == "满199元包邮。"
    assert fake_ollama.embed_requests() == []


def test_faq_similar_question_matches_above_the_threshold_in_its_language(fake_ollama, settings) -> None:
    settings.FAQ_SIMILARITY_THRESHOLD = 0.65
    faq_create("How much is delivery?", "Free over ¥199, else ¥12.", alternatives=("What does shipping cost?",))
    faq_create("运费多少钱?", "满199元包邮。", language="zh-hans")

    def match(question: str) -> FAQMatch | None:
        return faq_match(question, query_vector=embedding.embed_query(question))

    similar = match("How much does delivery cost?")
    assert similar is not None and similar.how == "vector" and 0.65 <= similar.score < 1
    assert similar.answer == "Free over ¥199, else ¥12."
    assert match("How much is a gaiwan?") is None  # shares words, not the meaning: below the threshold
    assert match("Do you sell oolong tea?") is None
    settings.FAQ_SIMILARITY_THRESHOLD = 0.99
    assert match("How much does delivery cost?") is None


def test_unpublished_faq_never_answers(fake_ollama) -> None:
    faq_create("How much is delivery?", "Free over ¥199.", published=False)
    assert faq_match_exact("How much is delivery?") is None
