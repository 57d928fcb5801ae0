"""knowledge.embedding: one wrapper of Ollama's embed for indexing and for questions."""

from __future__ import annotations

import numpy as np
import pytest

from helpdesk.llm import ollama as gateway
from knowledge import embedding


def test_texts_are_embedded_in_batches_as_unit_vectors(fake_ollama, settings) -> None:
    settings.KNOWLEDGE_EMBED_BATCH = 2
    vectors = embedding.embed_texts(["shipping", "returns", "payment"])
    assert [len(r.body["input"]) for r in fake_ollama.embed_requests()] == [2, 1]
    assert vectors.shape[0] == 3 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_a_question_and_its_context_go_in_one_call_whatever_the_indexing_batch(fake_ollama, settings) -> None:
    settings.KNOWLEDGE_EMBED_BATCH = 1
    question, context = embedding.embed_queries(["那运费呢?", "退货怎么办?\n那运费呢?"])
    assert [len(r.body["input"]) for r in fake_ollama.embed_requests()] == [2]
    assert question.vector is not None and context.vector is not None and not question.error


def test_indexing_raises_when_the_model_is_missing_but_a_question_falls_back_to_keywords(fake_ollama,
                                                                                        caplog) -> None:
    fake_ollama.state.models = ["deepseek-r1:7b"]
    with pytest.raises(gateway.OllamaError):
        embedding.embed_texts(["shipping"])
    query_vector = embedding.embed_query("How much is shipping?")
    assert query_vector.vector is None and query_vector.error
    assert "embedding the question failed, retrieval is keyword-only" in caplog.text


def test_a_question_embedded_early_is_taken_by_the_next_lookup_of_that_question_without_asking_again(
    fake_ollama,
) -> None:
    fresh = embedding.embed_query("退货运费谁出？Who pays return postage?").vector
    fake_ollama.reset()
    embedding.query_embedding_start("退货运费谁出？Who pays return postage?")
    taken = embedding.embed_query("退货运费谁出？Who pays return postage?")
    assert [r.body["input"] for r in fake_ollama.embed_requests()] == [["退货运费谁出？Who pays return postage?"]]
    assert taken.vector is not None and np.allclose(taken.vector, fresh)
    embedding.embed_query("退货运费谁出？Who pays return postage?")  # taken once: the next one asks again
    assert len(fake_ollama.embed_requests()) == 2


def test_an_early_embedding_of_another_text_is_dropped_and_the_asked_texts_are_embedded(fake_ollama) -> None:
    embedding.query_embedding_start("How long does delivery take?")
    question, context = embedding.embed_queries(["and to Tibet?", "How long does delivery take?\nand to Tibet?"])
    assert ["and to Tibet?", "How long does delivery take?\nand to Tibet?"] in [
        r.body["input"] for r in fake_ollama.embed_requests()]
    expected = embedding.embed_queries(["and to Tibet?", "How long does delivery take?\nand to Tibet?"])
    assert np.allclose(question.vector, expected[0].vector) and np.allclose(context.vector, expected[1].vector)
    assert embedding._early_take(["How long does delivery take?"]) is None  # dropped: no later lookup takes it


def test_an_early_embedding_is_this_threads_alone(fake_ollama) -> None:
    import threading

    embedding.query_embedding_start("Do you ship to Macau?")
    elsewhere: list = []
    thread = threading.Thread(target=lambda: elsewhere.append(embedding.embed_query("Do you ship to Macau?")))
    thread.start()
    thread.join()
    assert elsewhere[0].vector is not None
    embedding.embed_query("Do you ship to Macau?")  # this thread's early one, taken (and so answered by now)
    assert len(fake_ollama.embed_requests()) == 2  # that one, and the other thread's own


def test_an_early_embedding_that_fails_leaves_the_question_to_keywords_as_a_late_one_does(fake_ollama,
                                                                                        caplog) -> None:
    fake_ollama.state.models = ["deepseek-r1:7b"]
    embedding.query_embedding_start("有没有货到付款？")
    query_vector = embedding.embed_query("有没有货到付款？")
    assert query_vector.vector is None and query_vector.error
    assert "embedding the question failed, retrieval is keyword-only" in caplog.text
