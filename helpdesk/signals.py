"""Signals the core sends, so that apps take their part in shared work without the core importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by `manage.py serve` after migrating, before any process that serves starts: for work left over from the
# last stop (conversations closes the replies it interrupted). A receiver returns a line for serve to print, or
# None. Sent with `send`, not `send_robust`: a receiver that fails stops the start, as the work itself would.
serve_starting = Signal()

# Sent by the knowledge app after a change to published knowledge has committed, with `version`, the new
# knowledge-base version: for work that follows a publish (conversations may queue an evaluation run,
# EVAL_ON_PUBLISH) without the knowledge app importing the app that does it.
knowledge_published = Signal()
