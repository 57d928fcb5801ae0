"""FAQ entries suggested from agents' answers (issue 20): the knowledge base learns from what people answered.

When an agent resolves a conversation they took over, `services.faq_suggestion_queue` queues
`conversations.faq_suggest` (queue `knowledge`, after the commit: resolving stays fast). The task takes the
customer's question and the agent's answer (`exchange`: which messages, by a fixed rule), takes personal data out
of both (`conversations.privacy.masking.personal_data_redact`), optionally has a small model tidy them
(`tidy`, FAQ_SUGGESTION_TIDY_MODEL, structured outputs, as written on any failure), and looks for an existing FAQ
entry the question is close to (`knowledge.selectors.faq_similar_find`: embeddings when there are, shared words
otherwise). A curator edits the suggestion in admin and publishes it (a new FAQ entry, or the question as an
alternative phrasing of the close one) or dismisses it.
"""
