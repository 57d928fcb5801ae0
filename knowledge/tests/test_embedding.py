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
