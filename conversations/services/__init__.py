"""Writes of the conversations app, one module per subject.

- `identity`: the host site's signed customer identity, and the conversation it opens
- `messages`: what customers and agents write (and what a customer's message sets off), private notes
- `handoff`: every status change (`conversation_transition`): to the human queue, an agent, back to the bot, resolved
- `replies`: a bot reply's life (start, progress, finish, abandon, the sweep) and its LLM-call record
- `feedback`, `contact`, `presence` (and typing), `drafts`
- below them: `posting` (every stored message is counted and pushed), `cancel` (stopping replies); what a client
  sends is checked by the rules of `conversations.protocol.fields`

Every change a client must hear about is stored first and pushed after the
transaction commits through `conversations.events`, which decides who hears
it; tasks are enqueued the same way, so a worker never looks for a row that
is not there yet. Import from the subject's module.
"""
