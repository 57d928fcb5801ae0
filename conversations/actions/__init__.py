"""Actions: the bot looks things up in the company's own systems (issue 19).

An `Action` (admin) is one HTTP operation on the company's system. When a customer message's intent is one an
active action lists, the reply pipeline (conversations.pipeline.reply) asks a model to choose the action and its
arguments through Ollama's structured outputs (`choice`), makes the call itself with the verified customer's id
(`calls`: host fixed by the admin, arguments URL-encoded, no redirects, bounded read, a deadline) and gives the
result to the answering model as numbered source [1] (`step`). Every call is stored (`ActionCall`) and shown to
agents beside the reply. Only read-only actions run at once; one that changes something is proposed and runs
when the customer confirms it in the chat, or when an agent approves it (a setting per action) in the console
or in admin (`approval`: once, and the customer is told the outcome).
"""
