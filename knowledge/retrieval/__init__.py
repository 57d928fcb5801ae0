"""Hybrid search over published knowledge, and FAQ matching.

Vector similarity (Ollama embeddings, searched with numpy in memory) and
keyword scoring (BM25 over jieba-segmented Chinese and tokenised English)
are fused by reciprocal rank. Both run on a snapshot of the published
knowledge held by each process and rebuilt when `KnowledgeState.version`
changes, so SQLite and PostgreSQL behave the same. `search.search()` and
`faq.faq_match()` are the only entry points: a pgvector backend would replace
the snapshot behind them.

Modules, each imported by its own name (this package re-exports nothing):
`terms` (segmentation, stop words, question normalisation), `snapshot` (the
per-process snapshot and its BM25 postings), `ranking` (top-k and reciprocal
rank fusion), `keyword` (BM25 scoring), `vector` (similarity ranking),
`search` (the hybrid search) and `faq` (FAQ matching).
"""
