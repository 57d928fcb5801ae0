"""Questions grouped into topics: by meaning (embedding vectors) or, without the embedding model, by their words.

One rule for both: each question, in a fixed order, joins the topic whose
centroid (the normalised sum of its questions' vectors) it is most alike, if
that cosine reaches the threshold, else starts a topic of its own. Without
embeddings a question's vector is the set of its words as knowledge.retrieval
indexes them (Chinese segmented in search mode with compounds' head nouns,
English stemmed, stop words out), so "退货要多久" and "怎么退货" share "退货"
and "能开发票吗" and "发票可以邮寄吗" share "发票". The same questions in the same order always give
the same topics, which the tests rely on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.retrieval.terms import index_terms, tokenize

LABEL_WORDS = 3


@dataclass(frozen=True)
class Grouping:
    """Topics as lists of indexes into the questions given, and the index of each topic's most typical one."""

    members: list[list[int]]
    typical: list[int]


def words_matrix(texts: Sequence[str]) -> np.ndarray:
    """Each text's word set as a unit row over the texts' vocabulary (a text without words: a zero row)."""
    word_sets = [sorted(set(index_terms(text))) for text in texts]
    vocabulary = {word: n for n, word in enumerate(sorted({w for words in word_sets for w in words}))}
    matrix = np.zeros((len(texts), max(len(vocabulary), 1)), dtype=np.float32)
    for row, words in enumerate(word_sets):
        for word in words:
            matrix[row, vocabulary[word]] = 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def vectors_group(vectors: np.ndarray, *, threshold: float) -> Grouping:
    """Rows of unit `vectors`, in their order, into topics (see the module docstring); a zero row stays alone."""
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    for index, vector in enumerate(vectors):
        best, best_score = -1, threshold
        if np.any(vector) and sums:
            centroids = np.vstack(sums)
            norms = np.linalg.norm(centroids, axis=1)
            norms[norms == 0] = 1.0
            scores = centroids @ vector / norms
            candidate = int(np.argmax(scores))  # the first of equals: deterministic
            if scores[candidate] >= best_score - 1e-6:
                best = candidate
        if best < 0:
            sums.append(vector.astype(np.float64).copy())
            members.append([index])
        else:
            sums[best] += vector
            members[best].append(index)
    typical = []
    for total, indexes in zip(sums, members, strict=True):
        norm = float(np.linalg.norm(total)) or 1.0
        scores = [float(vectors[i] @ total) / norm for i in indexes]
        typical.append(indexes[int(np.argmax(scores))])
    return Grouping(members=members, typical=typical)


def topic_label(texts: Sequence[str]) -> list[str]:
    """A topic's most frequent words as a reader would cut them (counted once a question; ties alphabetical),
    at most LABEL_WORDS."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(tokenize(text)))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _n in ranked[:LABEL_WORDS]]
