"""Recompute the chunks' stored keyword terms for search-mode segmentation and the articles' tags.

Uses the application's own `chunk_search_tokens` on purpose: the stored
terms must be exactly what indexing writes now, or questions would be cut
differently from the chunks they should match.
"""

from django.db import migrations


def search_tokens_recompute(apps, schema_editor):
    from knowledge.services.indexing import chunk_search_tokens

    Chunk = apps.get_model("knowledge", "Chunk")
    rows = Chunk.objects.values_list("id", "article__title", "article__tags", "heading", "text").order_by("id")
    batch = []
    for chunk_id, title, tags, heading, text in rows.iterator(chunk_size=1000):
        batch.append(Chunk(id=chunk_id, search_tokens=chunk_search_tokens(
            title=title, tags=tags, heading=heading, text=text)))
        if len(batch) >= 1000:
            Chunk.objects.bulk_update(batch, ["search_tokens"])
            batch = []
    Chunk.objects.bulk_update(batch, ["search_tokens"])


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(search_tokens_recompute, migrations.RunPython.noop)]
