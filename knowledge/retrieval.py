"""Hybrid search over published knowledge, and FAQ matching.

Vector similarity (Ollama embeddings, searched with numpy in memory) and
keyword scoring (BM25 over jieba-segmented Chinese and tokenised English)
are fused by reciprocal rank. Both run on a snapshot of the published
knowledge held by each process and rebuilt when `KnowledgeState.version`
changes, so SQLite and PostgreSQL behave the same. `search()` and
`faq_match()` are the only entry points: a pgvector backend would replace the
snapshot behind them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import rjieba
from django.conf import settings
from django.db.models import Count

from helpdesk.llm.text import is_cjk, language_of

from .embedding import QueryVector, embed_query
from .models import FAQ, Article, Chunk, KnowledgeState

logger = logging.getLogger(__name__)

RRF_K = 60
BM25_K1 = 1.2
BM25_B = 0.75

_CJK_RUN = re.compile(r"([\u2e80-\u9fff\uf900-\ufaff\u3400-\u4dbf]+)")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from as is are was were be been being am do does did
    i me my we our you your he she it its they them their this that these those there here what which who whom
    how when where why can could would should will shall may might must have has had not no yes so than then
    too very just about into over under again any some all also please hi hello thanks thank s t
    的 了 吗 呢 吧 啊 呀 哦 嗯 是 我 你 您 他 她 它 我们 你们 他们 在 和 与 及 或 有 要 会 能 可以 怎么 怎样 如何 什么
    请问 一下 这个 那个 那 这 就 都 也 还 对 把 被 给 从 到 为 以 之 其 等 个 吧 么 嘛 请 谢谢 你好
    """.split()
)


# --- text ------------------------------------------------------------------------------


def _stem(word: str) -> str:
    """Plurals to singular, enough for "returns" to find "return"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Search terms: Chinese by word segmentation, other text by words, stop words dropped."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    terms: list[str] = []
    for index, run in enumerate(_CJK_RUN.split(text)):
        if index % 2:  # a run of Chinese characters
            terms.extend(word for word in rjieba.cut(run) if word not in STOPWORDS)
        else:
            for word in _WORD.findall(run):
                word = word.removesuffix("'s")
                if word not in STOPWORDS:
                    terms.append(_stem(word))
    return terms


FOLLOW_UP_PREFIXES = (
    "那", "那么", "还有", "另外", "它", "这个", "那个", "这些", "那些", "也",
    "and ", "and?", "what about", "how about", "also", "then ", "it ", "it's", "its ", "that ", "this ",
    "those ", "they ", "what if", "same ",
)


def is_follow_up(question: str, *, has_history: bool) -> bool:
    """Whether a question leans on earlier turns ("那运费呢?", "and for returns?").

    Follow-ups are searched together with the previous question and are
    never answered from, or put into, the answer cache.
    """
    if not has_history:
        return False
    text = question.strip().lower()
    if text.startswith(FOLLOW_UP_PREFIXES):
        return True
    return len(tokenize(question)) <= 1


_TRAILING_PARTICLES = "吗呢吧啊呀么嘛"


def normalise_question(text: str) -> str:
    """The form two askings of the same question share: no case, spaces, punctuation or polite padding."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "S", "Z", "C")))
    for prefix in ("请问", "你好", "您好"):
        text = text.removeprefix(prefix)
    text = text.rstrip(_TRAILING_PARTICLES) if any(is_cjk(ch) for ch in text) else text
    return text


# --- the snapshot ----------------------------------------------------------------------


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


def knowledge_version() -> int:
    return KnowledgeState.objects.values_list("version", flat=True).first() or 0


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
        "heading", "text", "search_tokens", "embedding", "embedding_dim", "embed_model",
    )
    for position, row in enumerate(rows.iterator(chunk_size=2000)):
        chunk_id, article_id, title, url, language, heading, text, tokens, embedding, chunk_dim, chunk_model = row
        snapshot.chunks.append(ChunkRef(chunk_id, article_id, title, url, language, heading, text))
        terms = tokens.split()
        term_ids.extend([vocabulary.setdefault(term, len(vocabulary)) for term in terms])
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


# --- search ----------------------------------------------------------------------------


@dataclass
class Hit:
    chunk_id: int
    article_id: int
    title: str
    url: str
    heading: str
    text: str
    vector_score: float | None
    keyword_score: float
    fused_score: float
    vector_rank: int | None = None
    keyword_rank: int | None = None


@dataclass
class SearchResult:
    hits: list[Hit]
    keyword_only: bool
    note: str = ""
    version: int = 0


def _keyword_scores(snapshot: Snapshot, query: str) -> np.ndarray:
    scores = np.zeros(len(snapshot.chunks), dtype=np.float32)
    for term in set(tokenize(query)):
        term_id = snapshot.vocabulary.get(term)
        if term_id is None:
            continue
        start, end = snapshot.term_ptr[term_id], snapshot.term_ptr[term_id + 1]
        docs = snapshot.posting_docs[start:end]
        tf = snapshot.posting_tf[start:end]
        scores[docs] += snapshot.idf[term_id] * tf * (BM25_K1 + 1) / (tf + snapshot.length_norm[docs])
    return scores


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` highest scores, best first."""
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, count)[:count]
    return part[np.argsort(-scores[part], kind="stable")]


def search(
    query: str,
    *,
    query_vector: QueryVector | None = None,
    limit: int | None = None,
    version: int | None = None,
    include_weak: bool = False,
    context: tuple[str, QueryVector] | None = None,
) -> SearchResult:
    """The published chunks that best answer `query`, fused from vector and keyword rankings.

    `query_vector` is the embedded query (embedded here when not given).
    `context` is a second query for a follow-up (the previous question with
    this one, embedded): its rankings are fused in too, so "那运费呢?" after
    a question about returns finds return shipping, while a follow-up with
    words of its own ("那多久能退款?") still ranks by them. Weak hits (no
    keyword match and a vector score under RETRIEVAL_MIN_VECTOR_SCORE) are left
    out unless `include_weak`. Scores and ranks reported are those of `query`
    itself where it found the chunk, else of the context query.
    """
    limit = limit or settings.RETRIEVAL_TOP_K
    snapshot = current_snapshot(version)
    if not snapshot.chunks:
        return SearchResult(hits=[], keyword_only=False, note="the knowledge base has no published articles",
                            version=snapshot.version)
    if query_vector is None:
        query_vector = embed_query(query)
    queries = [(query, query_vector)] + ([context] if context else [])
    fused: dict[int, float] = {}
    vector_score: dict[int, float] = {}
    vector_rank: dict[int, int] = {}
    keyword_score: dict[int, float] = {}
    keyword_rank: dict[int, int] = {}
    note = ""
    keyword_only = True
    for text, vector in queries:
        usable, problem = _vector_usable(snapshot, vector)
        if usable:
            keyword_only = False
            _rank_by_vector(snapshot, vector, fused, vector_score, vector_rank)
        else:
            note = note or problem
        _rank_by_keywords(snapshot, text, fused, keyword_score, keyword_rank)
    if note and keyword_only:
        logger.warning("retrieval %s", note)
    hits: list[Hit] = []
    for position, score in sorted(fused.items(), key=lambda item: -item[1]):
        similarity = vector_score.get(position)
        keywords = keyword_score.get(position, 0.0)
        strong = keywords > 0 or (similarity is not None and similarity >= settings.RETRIEVAL_MIN_VECTOR_SCORE)
        if not strong and not include_weak:
            continue
        ref = snapshot.chunks[position]
        hits.append(
            Hit(
                chunk_id=ref.chunk_id, article_id=ref.article_id, title=ref.title, url=ref.url, heading=ref.heading,
                text=ref.text, vector_score=similarity, keyword_score=keywords, fused_score=score,
                vector_rank=vector_rank.get(position), keyword_rank=keyword_rank.get(position),
            )
        )
        if len(hits) >= limit:
            break
    return SearchResult(hits=hits, keyword_only=keyword_only, note=note if keyword_only else "",
                        version=snapshot.version)


def _vector_usable(snapshot: Snapshot, query_vector: QueryVector) -> tuple[bool, str]:
    if query_vector.vector is None:
        return False, f"keyword-only: the embedding model is unavailable ({query_vector.error})"
    if not len(snapshot.vector_rows):
        return False, f"keyword-only: no chunk has a {snapshot.embed_model} vector yet (run `manage.py reindex`)"
    if query_vector.vector.shape[0] != snapshot.dim:
        return False, (
            f"keyword-only: the question's vector has {query_vector.vector.shape[0]} dimensions, "
            f"the index {snapshot.dim}; run `manage.py reindex`"
        )
    return True, ""


def _rank_by_vector(snapshot: Snapshot, query_vector: QueryVector, fused: dict[int, float],
                    scores: dict[int, float], ranks: dict[int, int]) -> None:
    similarities = snapshot.vectors @ query_vector.vector
    for rank, row in enumerate(_top(similarities, settings.RETRIEVAL_CANDIDATES)):
        position = int(snapshot.vector_rows[row])
        scores.setdefault(position, float(similarities[row]))
        ranks.setdefault(position, rank + 1)
        fused[position] = fused.get(position, 0.0) + 1.0 / (RRF_K + rank + 1)


def _rank_by_keywords(snapshot: Snapshot, query: str, fused: dict[int, float],
                      scores: dict[int, float], ranks: dict[int, int]) -> None:
    keyword = _keyword_scores(snapshot, query)
    for rank, position in enumerate(_top(keyword, settings.RETRIEVAL_CANDIDATES)):
        if keyword[position] <= 0:
            break
        position = int(position)
        scores.setdefault(position, float(keyword[position]))
        ranks.setdefault(position, rank + 1)
        fused[position] = fused.get(position, 0.0) + 1.0 / (RRF_K + rank + 1)


# --- FAQ -------------------------------------------------------------------------------


@dataclass
class FAQMatch:
    faq_id: int
    question: str
    answer: str
    how: str  # "exact" or "vector"
    score: float


def faq_match_exact(question: str, *, version: int | None = None) -> FAQMatch | None:
    """A published FAQ entry one of whose phrasings is the question, normalised. No Ollama call."""
    snapshot = current_faq_snapshot(version)
    faq_id = snapshot.exact.get(normalise_question(question))
    if faq_id is None:
        return None
    faq = snapshot.faqs[faq_id]
    return FAQMatch(faq_id=faq_id, question=faq.question, answer=faq.answer, how="exact", score=1.0)


def faq_match(question: str, *, query_vector: QueryVector | None = None, version: int | None = None) -> FAQMatch | None:
    """Exact match first, then the most similar phrasing in the question's language above FAQ_SIMILARITY_THRESHOLD."""
    exact = faq_match_exact(question, version=version)
    if exact is not None or query_vector is None or query_vector.vector is None:
        return exact
    snapshot = current_faq_snapshot(version)
    if not len(snapshot.vector_owner) or snapshot.vectors.shape[1] != query_vector.vector.shape[0]:
        return None
    similarities = snapshot.vectors @ query_vector.vector
    language = language_of(question)
    for row in _top(similarities, min(len(similarities), 10)):
        score = float(similarities[row])
        if score < settings.FAQ_SIMILARITY_THRESHOLD:
            return None
        faq = snapshot.faqs[int(snapshot.vector_owner[row])]
        if faq.language == language:
            return FAQMatch(faq_id=faq.faq_id, question=faq.question, answer=faq.answer, how="vector", score=score)
    return None
