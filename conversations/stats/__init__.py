"""Statistics for the agents' reports, by subject: `measures` (the definitions and arithmetic both reports share),
`profiles` (model profiles side by side), `buckets` (the dashboard's time buckets) and `dashboard` (its series).
Callers import the submodule they need.

Read-only, like the selectors: nothing here writes. Counts, sums and means are
aggregated in the database (grouped by profile, or by the minute or hour the
dashboard's buckets are made of, in queries that SQLite and PostgreSQL both
run); only percentiles need the values themselves, and those are read with a
cap and computed in Python (numpy), because SQLite has no percentile function.

Definitions shared by both reports (shown on the pages too):
- a conversation "had a human" when an agent holds it or ever wrote in it (a
  reply or a private note); `agent` alone is not enough, since handing a
  conversation back to the bot clears it;
- a conversation was "handed to a human" when it went to the human queue
  (`handoff_at`, set by the bot or by the customer's request) or had a human
  (an agent may take a conversation over from the bot without a handoff);
- latencies are those of completed replies the model wrote (`answer_source`
  llm); FAQ and cache answers have no first token and would flatter them;
- conversations of evaluation runs (`Conversation.evaluation`) are never counted: they are the product
  measuring itself, not traffic.
"""
