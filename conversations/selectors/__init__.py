"""Reads of the conversations app, by subject: access (tokens, origins), messages (their customer and agent
forms), inbox, history (the widget's view), availability (support hours, agents online) and replies (what the
reply pipeline and its sweeps read). Callers import the submodule they need."""
