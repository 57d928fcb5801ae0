"""Writes of the knowledge base: curation, indexing, imports, the demo content.

Every change to what customers may be told (publishing, unpublishing,
deleting, re-indexing published text, FAQ edits) bumps the knowledge-base
version in the same transaction: retrieval snapshots are rebuilt from it and
the answer cache keys on it, so nothing stale is served. Indexing and
imports run as tasks queued after the commit, by their registered names
(`helpdesk.celery.enqueue("knowledge.index_article", ...)`): the tasks
module imports these services, never the other way round.

Modules, each imported by its own name (this package re-exports nothing):
`version` (the knowledge-base version), `articles` (curation of articles),
`indexing` (chunking and embedding an article), `faq` (FAQ entries),
`imports` (uploaded documents to draft articles) and `demo` (the demo shop).
"""
