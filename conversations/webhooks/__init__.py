"""Signed webhooks: the company's systems hear of conversations as they happen (README: Webhooks).

`signing` (the header, and its check for receivers and tests), `emit` (the events, queued once the transaction that
made them commits), `delivery` (one try of one delivery, its retries and its log). Agents' actions reach it through
conversations.services, which emit from the one place each change happens.
"""
