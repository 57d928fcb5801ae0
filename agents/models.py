"""Canned responses and the audit log arrive with the agent-console issue."""
