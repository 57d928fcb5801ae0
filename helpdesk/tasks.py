"""Periodic operations tasks (scheduled by Celery beat)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from helpdesk.llm import ollama as gateway


@shared_task(name="helpdesk.check_ollama_nodes", ignore_result=True)
def check_ollama_nodes(**kwargs: Any) -> None:
    """Probe every Ollama node, so routing, the console and /healthz see each node's health and models."""
    gateway.nodes_check()
