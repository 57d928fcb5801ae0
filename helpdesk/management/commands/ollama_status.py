"""`manage.py ollama_status`: every Ollama node, what it has and how fast it answers; non-zero when none can chat."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from helpdesk.llm import nodes, profiles
from helpdesk.llm import ollama as gateway


class Command(BaseCommand):
    help = "Probe every Ollama node (OLLAMA_HOSTS): version, models pulled and loaded, latency, routing state."

    def handle(self, *args: Any, **options: Any) -> None:
        chat_models = profiles.configured_chat_models()
        wanted = [*chat_models, settings.OLLAMA_EMBED_MODEL]
        found = gateway.nodes_check()
        states = {state.host: state for state in nodes.nodes_state()}
        can_chat = 0
        for health in found:
            state = states[health.host]
            if not health.up:
                self.stdout.write(self.style.ERROR(f"{health.host}  DOWN  {health.error}"))
                continue
            serves_default = health.has_model(chat_models[0])
            can_chat += serves_default
            routing = "cooling down" if state.cooling_down else "awaiting probe" if state.probing else "in rotation"
            self.stdout.write(self.style.SUCCESS(f"{health.host}  up  Ollama {health.version or '?'}") +
                              f"  latency {health.latency_ms:.1f} ms  in flight {state.in_flight}  {routing}")
            for model in wanted:
                if health.has_model(model):
                    loaded = " (loaded)" if nodes.model_tag(model) in map(nodes.model_tag, health.loaded) else ""
                    self.stdout.write(f"    {model}: pulled{loaded}")
                else:
                    self.stdout.write(self.style.WARNING(f"    {model}: missing, run `ollama pull {model}`"))
            others = sorted(set(map(nodes.model_tag, health.loaded)) - set(map(nodes.model_tag, wanted)))
            if others:
                self.stdout.write(f"    also loaded: {', '.join(others)}")
        if not can_chat:
            raise CommandError(f"no Ollama node can serve the chat model {chat_models[0]}")
        self.stdout.write(f"{can_chat} of {len(found)} node(s) can serve {chat_models[0]}.")
