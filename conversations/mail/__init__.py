"""Agents' replies by email, for customers who left an address and are not in the chat (the off-hours form's
promise). `compose` words the email in the customer's language and threads it; `delivery` queues it with the reply
and sends it, with retries, recording what happened on an EmailDelivery row (admin, and the console's marker)."""
