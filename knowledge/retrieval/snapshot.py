"""Each process's snapshot of the published knowledge, arranged for searching, and rebuilt when it changes.

The snapshot is rebuilt when `KnowledgeState.version` (or the embedding
model) changes; the chunk vectors and the BM25 postings of one version live
here, the FAQ entries in a snapshot of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import BigIntegerField, Count, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import FAQ, Article, Chunk, KnowledgeState
from .terms import index_terms, normalise_question, tokenize

logger = logging.getLogger(__name__)

BM25_K1 = 1.2
BM25_B = 0.75

@dataclass
class ChunkRef:
    chunk_id: int
    article_id: int
    title: str
    url: str
    language: str
    heading: str
    text: str


@dataclass
class FAQRef:
    faq_id: int
    question: str
    answer: str
    language: str


@dataclass
class Snapshot:
    """What one knowledge-base version holds, arranged for searching."""

    version: int
    chunks: list[ChunkRef] = field(default_factory=list)
    # Vector search: unit rows for the chunks embedded with the current model.
    embed_model: str = ""
    dim: int = 0
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    vector_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # BM25, postings in compressed-sparse-row form: term -> documents and term frequencies.
    vocabulary: dict[str, int] = field(default_factory=dict)
    term_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    posting_docs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    posting_tf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    # Whether the posting's term is one of its chunk's topic terms (its article's title or tags, its heading):
    # what the chunk is about, for retrieval.coverage.
    posting_topic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    length_norm: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    built_in_s: float = 0.0
    unembedded_chunks: int = 0


@dataclass
class FAQSnapshot:
    """The published FAQ entries of one version: small, and kept apart from the chunks so that the
    web process, which answers exact FAQ matches itself, never loads the whole knowledge base."""

    version: int
    embed_model: str = ""
    faqs: dict[int, FAQRef] = field(default_factory=dict)
    exact: dict[str, int] = field(default_factory=dict)
    # One unit row per phrasing embedded with the current model.
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    vector_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


# Inside `knowledge_version_once()`: the version as first read there (None: not read yet).
_version_once: ContextVar[list[int] | None] = ContextVar("knowledge_version_once", default=None)


def knowledge_version() -> int:
    held = _version_once.get()
    if held:
        return held[0]
    version = KnowledgeState.objects.values_list("version", flat=True).first() or 0
    if held is not None:
        held.append(version)
    return version


@contextmanager
def knowledge_version_once() -> Iterator[None]:
    """Within the block, the version is read once and every later read gets the same number: one piece of work
    (a customer message classified, then checked against the FAQ and the cache) sees one version of the
    knowledge, for one query."""
    token = _version_once.set([])
    try:
        yield
    finally:
        _version_once.reset(token)


@contextmanager
def knowledge_version_known(version: int) -> Iterator[None]:
    """`knowledge_version_once` with the version already read, by a query that carried it along
    (`knowledge_version_column`): within the block, every read gets it and none queries."""
    token = _version_once.set([version])
    try:
        yield
    finally:
        _version_once.reset(token)


def knowledge_version_column() -> Coalesce:
    """The version as an expression another app's query can annotate its rows with (0 with no state row, as
    `knowledge_version` reads it): one query fewer where a piece of work reads both."""
    first = KnowledgeState.objects.order_by("pk").values("version")[:1]
    return Coalesce(Subquery(first), Value(0), output_field=BigIntegerField())


def _dominant_dim(dims: list[int | None]) -> int:
    counted = Counter(d for d in dims if d)
    return counted.most_common(1)[0][0] if counted else 0


def snapshot_build(version: int) -> Snapshot:
    """Load the published, indexed knowledge of `version` from the database.

    Rows are streamed and their vectors copied straight into one
    preallocated matrix: the peak memory stays close to what the snapshot
    keeps, even with tens of thousands of chunks.
    """
    started = time.perf_counter()
    model = settings.OLLAMA_EMBED_MODEL
    snapshot = Snapshot(version=version, embed_model=model)
    # An article being re-indexed keeps serving its previous chunks until the
    # new ones replace them in one transaction: never a mix, never a gap.
    published = Chunk.objects.filter(article__status=Article.Status.PUBLISHED)
    sizes = (
        published.filter(embed_model=model, embedding__isnull=False)
        .values("embedding_dim")
        .annotate(count=Count("id"))
        .order_by("-count")
    )
    dim, capacity = (sizes[0]["embedding_dim"], sizes[0]["count"]) if sizes else (0, 0)
    matrix = np.empty((capacity, dim), dtype=np.float32)
    vector_rows = array("q")
    term_ids = array("q")
    doc_lengths = array("q")
    vocabulary: dict[str, int] = {}
    rows = published.order_by("article_id", "ordinal").values_list(
        "id", "article_id", "article__title", "article__public_url", "article__language",
        "heading", "text", "search_tokens", "embedding", "embedding_dim", "embed_model", "article__tags",
    )
    topics: dict[tuple[str, str, str], frozenset[str]] = {}
    topic_terms, topic_docs = array("q"), array("q")
    for position, row in enumerate(rows.iterator(chunk_size=2000)):
        chunk_id, article_id, title, url, language, heading, text, tokens, embedding, chunk_dim, chunk_model, tags = row
        snapshot.chunks.append(ChunkRef(chunk_id, article_id, title, url, language, heading, text))
        terms = tokens.split()
        term_ids.extend([vocabulary.setdefault(term, len(vocabulary)) for term in terms])
        topic = topics.get((title, tags, heading))
        if topic is None:
            topic = topics[(title, tags, heading)] = frozenset(index_terms(f"{title}\n{tags}\n{heading}"))
        found = [vocabulary[term] for term in topic if term in vocabulary]
        topic_terms.extend(found)
        topic_docs.extend([position] * len(found))
        doc_lengths.append(len(terms))
        if embedding is not None and chunk_model == model and chunk_dim == dim and len(vector_rows) < capacity:
            matrix[len(vector_rows)] = np.frombuffer(embedding, dtype=np.float32)
            vector_rows.append(position)
    snapshot.unembedded_chunks = len(snapshot.chunks) - len(vector_rows)
    if len(vector_rows):
        snapshot.dim = dim
        snapshot.vectors = matrix[: len(vector_rows)]
        snapshot.vector_rows = np.frombuffer(vector_rows, dtype=np.int64).copy()
    lengths = np.frombuffer(doc_lengths, dtype=np.int64)
    _build_bm25(snapshot, vocabulary, np.frombuffer(term_ids, dtype=np.int64), lengths)
    _mark_topics(snapshot, np.frombuffer(topic_terms, dtype=np.int64), np.frombuffer(topic_docs, dtype=np.int64))
    snapshot.built_in_s = time.perf_counter() - started
    logger.info(
        "knowledge snapshot v%s: %s chunks (%s with %s vectors), built in %.2f s",
        version, len(snapshot.chunks), len(vector_rows), model, snapshot.built_in_s,
    )
    return snapshot


def _build_bm25(snapshot: Snapshot, vocabulary: dict[str, int], term_ids: np.ndarray, lengths: np.ndarray) -> None:
    """Postings in compressed-sparse-row form, from every document's term ids laid end to end."""
    n_docs = len(lengths)
    snapshot.vocabulary = vocabulary
    if not len(term_ids):
        snapshot.length_norm = np.ones(n_docs, dtype=np.float32)
        snapshot.term_ptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        snapshot.idf = np.zeros(len(vocabulary), dtype=np.float32)
        return
    doc_ids = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    keys = term_ids * n_docs + doc_ids
    unique_keys, counts = np.unique(keys, return_counts=True)  # sorted by term, then document
    posting_terms = unique_keys // n_docs
    snapshot.posting_docs = unique_keys % n_docs
    snapshot.posting_tf = counts.astype(np.float32)
    snapshot.term_ptr = np.searchsorted(posting_terms, np.arange(len(vocabulary) + 1)).astype(np.int64)
    document_frequency = np.diff(snapshot.term_ptr).astype(np.float32)
    snapshot.idf = np.log(1 + (n_docs - document_frequency + 0.5) / (document_frequency + 0.5)).astype(np.float32)
    lengths = lengths.astype(np.float32)
    average = float(lengths.mean()) or 1.0
    snapshot.length_norm = (BM25_K1 * (1 - BM25_B + BM25_B * lengths / average)).astype(np.float32)


def _mark_topics(snapshot: Snapshot, terms: np.ndarray, docs: np.ndarray) -> None:
    """Flag the postings of each chunk's topic terms (the postings are sorted by term, then document)."""
    n_docs = len(snapshot.chunks)
    if not len(snapshot.posting_docs) or not len(terms):
        snapshot.posting_topic = np.zeros(len(snapshot.posting_docs), dtype=bool)
        return
    posting_terms = np.repeat(np.arange(len(snapshot.term_ptr) - 1, dtype=np.int64), np.diff(snapshot.term_ptr))
    snapshot.posting_topic = np.isin(posting_terms * n_docs + snapshot.posting_docs, terms * n_docs + docs)


def faq_snapshot_build(version: int) -> FAQSnapshot:
    model = settings.OLLAMA_EMBED_MODEL
    snapshot = FAQSnapshot(version=version, embed_model=model)
    entries = list(
        FAQ.objects.filter(published=True).values_list(
            "id", "question", "alternatives", "answer", "language", "embeddings", "embedding_dim", "embed_model"
        )
    )
    dim = _dominant_dim([entry[6] for entry in entries if entry[7] == model])
    vectors: list[np.ndarray] = []
    owners: list[int] = []
    for faq_id, question, alternatives, answer, language, embeddings, faq_dim, faq_model in entries:
        snapshot.faqs[faq_id] = FAQRef(faq_id, question, answer, language)
        for phrasing in [question, *alternatives.splitlines()]:
            key = normalise_question(phrasing)
            if key:
                snapshot.exact.setdefault(key, faq_id)
        if embeddings is not None and faq_model == model and faq_dim == dim and dim:
            rows = np.frombuffer(bytes(embeddings), dtype=np.float32).reshape(-1, dim)
            vectors.append(rows)
            owners.extend([faq_id] * len(rows))
    if vectors:
        snapshot.vectors = np.vstack(vectors)
        snapshot.vector_owner = np.asarray(owners, dtype=np.int64)
    return snapshot


_snapshots: dict[str, Snapshot | FAQSnapshot] = {}
_snapshot_lock = threading.Lock()


def _cached(kind: str, version: int | None, build: object) -> object:
    version = knowledge_version() if version is None else version
    snapshot = _snapshots.get(kind)
    model = settings.OLLAMA_EMBED_MODEL
    if snapshot is not None and snapshot.version == version and snapshot.embed_model == model:
        return snapshot
    with _snapshot_lock:
        snapshot = _snapshots.get(kind)
        if snapshot is None or snapshot.version != version or snapshot.embed_model != model:
            snapshot = _snapshots[kind] = build(version)  # type: ignore[operator]
        return snapshot


def current_snapshot(version: int | None = None) -> Snapshot:
    """This process's chunk snapshot, rebuilt first if the knowledge base changed since it was built."""
    return _cached("chunks", version, snapshot_build)  # type: ignore[return-value]


def article_texts(article_ids: set[int], *, version: int | None = None) -> list[str]:
    """What these published articles say, their chunks' texts in order: a section the search did not find still
    states what the whole article does."""
    if not article_ids:
        return []
    return [chunk.text for chunk in current_snapshot(version).chunks if chunk.article_id in article_ids]


def current_faq_snapshot(version: int | None = None) -> FAQSnapshot:
    return _cached("faq", version, faq_snapshot_build)  # type: ignore[return-value]


def has_searchable_knowledge(*, version: int | None = None) -> bool:
    """Whether a question's vector could find anything (published chunks, or FAQ entries with vectors)."""
    return bool(current_snapshot(version).chunks) or bool(len(current_faq_snapshot(version).vector_owner))


def snapshots_warm() -> None:
    """Build this process's snapshots and load the Chinese segmenter's dictionary before the first question."""
    version = knowledge_version()
    current_snapshot(version)
    current_faq_snapshot(version)
    tokenize("预热 warm-up")


def snapshot_forget() -> None:
    """Drop the cached snapshots (tests, and after a settings change)."""
    with _snapshot_lock:
        _snapshots.clear()
