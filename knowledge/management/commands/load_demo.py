"""`manage.py load_demo`: the demo shop's knowledge base (articles and FAQ entries, English and Chinese)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from helpdesk.celery import embedded_tasks_wait
from knowledge.services.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo shop's knowledge base, published; entries already there are kept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="only when the knowledge base is empty")

    def handle(self, *args: Any, **options: Any) -> None:
        articles, faqs = demo_load(only_if_empty=options["if_empty"])
        if not articles and not faqs:
            if not options["if_empty"]:
                self.stdout.write("The demo knowledge base is already loaded.")
            return
        self.stdout.write(f"Loaded the demo knowledge base: {articles} articles and {faqs} FAQ entries, published.")
        # Embedded mode: index before serving; production: the workers do it.
        if still_indexing := embedded_tasks_wait(timeout=120):
            self.stdout.write(
                f"Still indexing after 2 minutes ({len(still_indexing)} tasks): it goes on in the background."
            )
