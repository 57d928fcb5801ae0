"""The hybrid search: vector and keyword rankings of the published chunks, fused by reciprocal rank."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from ..embedding import QueryVector, embed_query
from .coverage import (
    chunk_articles,
    coverage_and_head_named_nowhere,
    coverage_scores,
    glued_slip_mended,
    particle_mended,
    pinyin_mended,
)
from .keyword import keyword_ranking, keyword_scores
from .ranking import fuse
from .snapshot import Snapshot, current_snapshot
from .terms import refers_back, repeats_figure
from .vector import vector_ranking, vector_usable

logger = logging.getLogger(__name__)


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
    # The share of the question's content words this chunk contains (retrieval.coverage); None: no such word.
    coverage: float | None = None
    # The same share for the chunk's whole article (its chunks between them).
    article_coverage: float | None = None
    language: str = ""  # the article's
    # Whether the chunk's topic (title, tags, heading) names every head word of the question (retrieval.coverage).
    heads_in_topic: bool = False
    # A follow-up's: the chunk's article is the one the conversation's last answer came from, and it has some of
    # the follow-up's own words, or no article has any ("那茶具呢" after an answer from the returns article: its
    # line on teaware).
    continues_subject: bool = False


@dataclass
class SearchResult:
    hits: list[Hit]
    keyword_only: bool
    note: str = ""
    version: int = 0


@dataclass
class _Fusion:
    """The rankings of one search, fused: scores and ranks by chunk position in the snapshot."""

    fused: dict[int, float] = field(default_factory=dict)
    vector_score: dict[int, float] = field(default_factory=dict)
    vector_rank: dict[int, int] = field(default_factory=dict)
    keyword_score: dict[int, float] = field(default_factory=dict)
    keyword_rank: dict[int, int] = field(default_factory=dict)
    keyword_only: bool = True
    note: str = ""
    # By chunk, by the chunk's article, and whether the chunk's topic names the question's head words.
    coverage: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    # By chunk: whether it continues the conversation's subject (Hit.continues_subject).
    continuing: np.ndarray | None = None


def search(
    query: str,
    *,
    query_vector: QueryVector | None = None,
    limit: int | None = None,
    version: int | None = None,
    include_weak: bool = False,
    context: tuple[str, QueryVector] | None = None,
    first: Callable[[Hit], bool] | None = None,
    subject: str = "",
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
    `first`: hits for which it holds come before the others, each kind in the
    fused order, before `limit` cuts the list. The reply pipeline passes whether a
    hit bears on the question: "can I hand the courier cash?" is answered by the
    one chunk that names cash on delivery, ranked below a dozen delivery chunks
    that share the word "delivery" and cover nothing of it.
    `subject`: with a `context`, the conversation's last answer (the bot's or an agent's), which tells what the
    follow-up goes on about: the chunks of the article it came from are marked (Hit.continues_subject).
    """
    limit = limit or settings.RETRIEVAL_TOP_K
    snapshot = current_snapshot(version)
    if not snapshot.chunks:
        return SearchResult(hits=[], keyword_only=False, note="the knowledge base has no published articles",
                            version=snapshot.version)
    if query_vector is None:
        query_vector = embed_query(query)
    # Pinyin left as typed in a Chinese message ("要付yunfei吗") is searched and covered as the words it spells, and
    # a final 吗 typed as its homophone ("能退码？") as 吗.
    query = particle_mended(glued_slip_mended(snapshot, pinyin_mended(snapshot, query)))
    if context:
        context = (particle_mended(glued_slip_mended(snapshot, pinyin_mended(snapshot, context[0]))), context[1])
    fusion = _fuse_queries(snapshot, [(query, query_vector)] + ([context] if context else []))
    fusion.coverage, own = _coverage(snapshot, query, context[0] if context else "")
    if context and subject:
        fusion.continuing = _continuing(snapshot, subject, own, query=query)
    if fusion.note and fusion.keyword_only:
        logger.warning("retrieval %s", fusion.note)
    return SearchResult(
        hits=_hits(snapshot, fusion, limit=limit, include_weak=include_weak, first=first),
        keyword_only=fusion.keyword_only,
        note=fusion.note if fusion.keyword_only else "",
        version=snapshot.version,
    )


_Coverage = tuple[np.ndarray, np.ndarray, np.ndarray]


def _coverage(snapshot: Snapshot, query: str, context: str) -> tuple[_Coverage | None, _Coverage | None]:
    """How much of the question each chunk (and its article) covers. A follow-up ("and to Canada?", "那港澳呢")
    is read with the question it follows, as one: its own words alone say little ("Canada" is in no article,
    "shipping to Canada" is). One that names its subject by a pronoun ("how long after ordering can I still ask
    for one?" after a fapiao) is read only so: its own words ("ordering") are any order's, not what it asks about.
    Returns the coverage and the question's own reading (None when it was not needed)."""
    by_pronoun = bool(context) and refers_back(query)
    if by_pronoun:  # one sentence: the pronoun's sentence is not read apart from what it stands for
        joined = coverage_scores(snapshot, " ".join(line.rstrip("?？!！.。 ") for line in context.split("\n")))
        if joined is not None:  # the question's own reading, coverage's costly part, is then not needed
            return joined, None
    if not context or by_pronoun:
        own = coverage_scores(snapshot, query)
        return own, own
    own, named_nowhere = coverage_and_head_named_nowhere(snapshot, query)
    if named_nowhere:  # "那洗碗机呢" after the microwave: the dishwasher is asked, and no article names one; the
        return own, own  # turn before, which the articles do cover, does not answer it
    joined = coverage_scores(snapshot, " ".join(_as_asked(context.split("\n"))))
    if own is None or joined is None:
        return own or joined, own
    return (np.maximum(own[0], joined[0]), np.maximum(own[1], joined[1]), np.maximum(own[2], joined[2])), own


def _as_asked(lines: list[str]) -> list[str]:
    """The earlier turns of a follow-up's context read as what was asked, told or asked ("The gaiwan arrived
    cracked." then "how fast does the new one go out?"): a story told without a question mark is the subject as
    much as a question is, and a long message's question sentence is otherwise read without it."""
    *earlier, last = lines
    return [line if line.rstrip().endswith(("?", "？")) or not line.strip() else f"{line.rstrip()}?"
            for line in earlier] + [last]


def _continuing(snapshot: Snapshot, answer: str, own: _Coverage | None, *, query: str = "") -> np.ndarray | None:
    """By chunk: whether it is of the article the conversation's last answer came from (the one whose chunk
    shares most of its words), and that article has some of the follow-up's own words when any article has them:
    "那普通快递呢" after next-day delivery's fee goes on about delivery, and so does "我过了三四天才发现的 还算吗"
    after breakage in transit (no article has its words), but "那发票呢" names another subject, which the
    delivery article does not have. A follow-up that repeats a figure of the answer ("已经超过48小时了，还能处理吗"
    after "请在签收后48小时内联系我们") goes on about it, whatever other words of its story another article has."""
    scores = keyword_scores(snapshot, answer)
    if not len(scores) or scores.max() <= 0:
        return None
    articles = chunk_articles(snapshot)
    continuing = articles == articles[int(scores.argmax())]
    if own is not None and own[1].max() > 0 and not repeats_figure(query, answer):  # words of its own some article has
        continuing &= own[1] > 0
    return continuing


def _fuse_queries(snapshot: Snapshot, queries: list[tuple[str, QueryVector]]) -> _Fusion:
    """Each query's vector ranking (where its vector fits the index) and keyword ranking, fused."""
    fusion = _Fusion()
    for text, vector in queries:
        usable, problem = vector_usable(snapshot, vector)
        if usable:
            fusion.keyword_only = False
            fuse(vector_ranking(snapshot, vector), fusion.fused, fusion.vector_score, fusion.vector_rank)
        else:
            fusion.note = fusion.note or problem
        fuse(keyword_ranking(snapshot, text), fusion.fused, fusion.keyword_score, fusion.keyword_rank)
    return fusion


def _best_covered(bearing: list[Hit]) -> list[Hit]:
    """Of the sources that bear on the question, those that cover most of it, when they are all of one article:
    never cut by the fused order, since a paraphrase ("so I'm not paying extra for the courier": free shipping)
    shares little with its article in meaning or in rare words. Several articles covering it as well leave the
    fused order to choose."""
    best = max((hit.coverage or 0.0 for hit in bearing), default=0.0)
    covering = [hit for hit in bearing if best and hit.coverage == best]
    return covering if len({hit.article_id for hit in covering}) == 1 else []


def _hits(snapshot: Snapshot, fusion: _Fusion, *, limit: int, include_weak: bool,
          first: Callable[[Hit], bool] | None = None) -> list[Hit]:
    """The best `limit` fused chunks, weak ones left out unless `include_weak`; those `first` holds for ahead."""
    if first is not None:
        every = _hits(snapshot, fusion, limit=len(fusion.fused), include_weak=include_weak)
        bearing = [hit for hit in every if first(hit)]  # `first` asked once per hit
        bears, best = {id(hit) for hit in bearing}, {id(hit) for hit in _best_covered(bearing)}
        return sorted(every, key=lambda hit: (id(hit) not in bears, id(hit) not in best))[:limit]
    hits: list[Hit] = []
    for position, score in sorted(fusion.fused.items(), key=lambda item: -item[1]):
        similarity = fusion.vector_score.get(position)
        keywords = fusion.keyword_score.get(position, 0.0)
        strong = keywords > 0 or (similarity is not None and similarity >= settings.RETRIEVAL_MIN_VECTOR_SCORE)
        if not strong and not include_weak:
            continue
        ref = snapshot.chunks[position]
        hits.append(
            Hit(
                chunk_id=ref.chunk_id, article_id=ref.article_id, title=ref.title, url=ref.url, heading=ref.heading,
                text=ref.text, vector_score=similarity, keyword_score=keywords, fused_score=score,
                vector_rank=fusion.vector_rank.get(position), keyword_rank=fusion.keyword_rank.get(position),
                coverage=None if fusion.coverage is None else round(float(fusion.coverage[0][position]), 3),
                article_coverage=None if fusion.coverage is None else round(float(fusion.coverage[1][position]), 3),
                language=ref.language,
                heads_in_topic=fusion.coverage is not None and bool(fusion.coverage[2][position]),
                continues_subject=fusion.continuing is not None and bool(fusion.continuing[position]),
            )
        )
        if len(hits) >= limit:
            break
    return hits
