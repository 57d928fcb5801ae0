"""The demo shop's knowledge base, loaded published (`manage.py load_demo`)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from ..models import FAQ, Article
from .faq import faq_index_later
from .indexing import index_later
from .version import knowledge_version_bump

DEMO_PATH = Path(__file__).resolve().parent.parent / "demo" / "demo.json"


def demo_load(*, only_if_empty: bool = False) -> tuple[int, int]:
    """The demo shop's knowledge base, published; entries already there (same title/question) are kept."""
    if only_if_empty and (Article.objects.exists() or FAQ.objects.exists()):
        return 0, 0
    data = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    created_articles: list[int] = []
    created_faqs: list[int] = []
    with transaction.atomic():
        for item in data["articles"]:
            if Article.objects.filter(title=item["title"]).exists():
                continue
            article = Article.objects.create(
                title=item["title"], body=item["body"], language=item["language"], tags=item.get("tags", ""),
                public_url=item.get("public_url", ""), status=Article.Status.PUBLISHED, published_at=timezone.now(),
                source_name="demo",
            )
            created_articles.append(article.pk)
        for item in data["faqs"]:
            if FAQ.objects.filter(question=item["question"]).exists():
                continue
            faq = FAQ.objects.create(
                question=item["question"], alternatives="\n".join(item.get("alternatives", [])),
                answer=item["answer"], language=item["language"], published=True,
            )
            created_faqs.append(faq.pk)
        if created_articles or created_faqs:
            knowledge_version_bump()
        index_later(created_articles)
        for faq_id in created_faqs:
            faq_index_later(faq_id)
    return len(created_articles), len(created_faqs)
