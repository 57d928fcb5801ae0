"""Moderation (the compliance filter): the admin's lists of blocked and sensitive terms and patterns, checked on
every customer message before anything else and on every bot reply while it streams.

- `matching`: normalisation and the Aho-Corasick matcher (pure)
- `lists`: the matcher for the lists as they are now, built once per version and kept per process; what a
  category's hit does (MODERATION_ACTIONS)
- `stream`: the filter a streaming reply goes through, which holds back what could begin a blocked term
- `model`: the optional model check (MODERATION_MODEL)

What a hit does to a conversation (a refusal, a handoff, a flag) and its record are writes:
conversations.services.moderation.
"""
