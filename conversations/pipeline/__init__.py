"""The reply pipeline: from a stored customer message to a stored, streamed bot reply.

FAQ direct answer (exact, with no Ollama call at all) -> answer cache
(standalone questions only; filled only by answers to a conversation's first
message, see `reply.cache_refusal`) -> one embedding of the question -> FAQ by
similarity -> hybrid retrieval (those steps are knowledge.selectors.knowledge_lookup)
-> a prompt with numbered, delimited sources within the token budget
(conversations.prompting) -> a streaming chat on Ollama (`streaming`), whose
`[n]` citation markers are taken out of the text and stored as the reply's
sources (`citations`), and which is stopped if it repeats the system prompt's
canary (conversations.guard) -> confidence and handoff (`reply`). Agents'
drafts (`draft`) share the steps up to the prompt (`preparation`).

Import the modules themselves (`from conversations.pipeline import reply`):
this package imports none of them, so that importing one costs no more than
that module.
"""
