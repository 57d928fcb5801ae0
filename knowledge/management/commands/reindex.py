"""`manage.py reindex`: chunk and embed every article and FAQ entry again, showing progress.

Needed after switching OLLAMA_EMBED_MODEL (vectors of another model, or of
another size, cannot be compared), and to embed what was indexed while the
embedding model was unreachable.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from knowledge.models import FAQ, Article
from knowledge.services.faq import faq_index
from knowledge.services.indexing import article_index


class Command(BaseCommand):
    help = "Re-index every article and FAQ entry with the current embedding model."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--missing", action="store_true",
            help="only what is not fully embedded with the current model (failed, keyword-only or stale)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = settings.OLLAMA_EMBED_MODEL
        articles = Article.objects.order_by("pk")
        faqs = FAQ.objects.order_by("pk")
        if options["missing"]:
            articles = articles.exclude(embedded=True, embed_model=model, indexed_version__isnull=False)
            faqs = faqs.exclude(embed_model=model, embeddings__isnull=False)
        article_ids = list(articles.values_list("pk", flat=True))
        faq_ids = list(faqs.values_list("pk", flat=True))
        total = len(article_ids) + len(faq_ids)
        self.stdout.write(f"Re-indexing {len(article_ids)} articles and {len(faq_ids)} FAQ entries with {model}")
        started = time.perf_counter()
        problems = 0
        for done, article_id in enumerate(article_ids, start=1):
            report = article_index(article_id=article_id, force=True)
            title = Article.objects.filter(pk=article_id).values_list("title", flat=True).first() or "(deleted)"
            line = f"[{done}/{total}] article {article_id} {title[:60]}: {report.outcome}"
            if report.outcome == "indexed":
                line += f", {report.chunks} chunks" + ("" if report.embedded else " (keyword only)")
            if report.error:
                line += f" - {report.error}"
                problems += 1
            self.stdout.write(line)
        for done, faq_id in enumerate(faq_ids, start=len(article_ids) + 1):
            outcome = faq_index(faq_id=faq_id, force=True)
            problems += outcome == "failed"
            self.stdout.write(f"[{done}/{total}] FAQ {faq_id}: {outcome}")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s.")
        if problems:
            raise CommandError(f"{problems} item(s) could not be embedded; is {model} pulled on the Ollama nodes?")
