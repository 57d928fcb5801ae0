"""Indexing, versions, imports and demo content, on the real database and the fake Ollama."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from knowledge.models import FAQ, Article, Chunk, ImportJob, IndexStatus
from knowledge.retrieval.search import search
from knowledge.retrieval.snapshot import knowledge_version
from knowledge.services.articles import article_save, articles_publish
from knowledge.services.demo import demo_load
from knowledge.services.faq import faq_add, faq_phrasing_add, faqs_set_published
from knowledge.services.imports import import_job_create, import_job_run
from knowledge.services.indexing import article_index
from knowledge.tests.factories import article_create, faq_create

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "files"


def test_indexing_stores_chunks_with_vectors_and_tokens(fake_ollama) -> None:
    article = article_create("shipping")
    assert article.index_status == IndexStatus.INDEXED and article.embedded
    assert article.chunk_count == 2 and article.indexed_version == article.version
    chunks = list(article.chunks.all())
    assert [c.heading for c in chunks] == ["Shipping fees", "Delivery times"]
    assert all(c.embedding_dim == 384 and len(bytes(c.embedding)) == 384 * 4 for c in chunks)
    assert "199" in chunks[0].search_tokens.split()
    # Chunks are embedded with their title and section, in one batched call.
    [request] = fake_ollama.embed_requests()
    assert request.body["model"] == "bge-m3"
    assert request.body["input"][0].startswith("Shipping and delivery\nShipping fees\nOrders over")


def test_indexing_is_idempotent(fake_ollama) -> None:
    article = article_create("shipping")
    chunk_ids = list(article.chunks.values_list("pk", flat=True))
    report = article_index(article_id=article.pk)
    assert report.outcome == "up_to_date"
    assert list(article.chunks.values_list("pk", flat=True)) == chunk_ids
    assert len(fake_ollama.embed_requests()) == 1


def test_edited_article_is_reindexed_and_bumps_the_version(fake_ollama) -> None:
    article = article_create("shipping")
    before = knowledge_version()
    article.body = "## Shipping fees\n\nEvery order ships free now."
    article_save(article=article, content_changed=True, was_published=True)
    article.refresh_from_db()
    assert article.version == 2 and article.index_status == IndexStatus.PENDING
    # Until the new text is indexed, the old chunks keep answering: no gap, no mix.
    assert search("shipping fee").hits[0].text.startswith("Orders over")
    report = article_index(article_id=article.pk)
    assert report.outcome == "indexed" and report.chunks == 1
    assert knowledge_version() > before
    assert [c.text for c in Chunk.objects.filter(article=article)] == ["Every order ships free now."]


def test_an_article_without_text_fails_with_a_reason_and_has_no_chunks(fake_ollama) -> None:
    article = article_create(title="Empty", body="   \n\n  ")
    assert article.index_status == IndexStatus.FAILED
    assert article.index_error == "the article has no text to index"
    assert article.chunks.count() == 0


def test_unreachable_embedding_model_indexes_for_keyword_search(fake_ollama) -> None:
    fake_ollama.state.models = ["deepseek-r1:7b"]
    article = article_create("payment")
    assert article.index_status == IndexStatus.INDEXED and not article.embedded
    assert "keyword search only" in article.index_error and "ollama pull bge-m3" in article.index_error
    assert article.chunks.filter(embedding__isnull=True).count() == article.chunk_count == 1
    assert search("Mastercard").hits[0].title == "Payment methods"


def test_reindex_command_embeds_what_is_missing_and_shows_progress(fake_ollama, capsys) -> None:
    fake_ollama.state.models = ["deepseek-r1:7b"]
    article_create("payment")
    article_create("shipping")
    faq_create("How much is delivery?", "Free over ¥199.")
    fake_ollama.state.models = ["deepseek-r1:7b", "bge-m3"]
    call_command("reindex", "--missing")
    out = capsys.readouterr().out
    assert "Re-indexing 2 articles and 1 FAQ entries with bge-m3" in out
    assert "[1/3] article" in out and "[3/3] FAQ" in out and "indexed, 1 chunks" in out
    assert Article.objects.filter(embedded=True).count() == 2
    assert not search("Mastercard").keyword_only


def test_switching_the_embedding_model_needs_a_reindex(fake_ollama, settings) -> None:
    article_create("payment")
    fake_ollama.state.models.append("nomic-embed-text")
    fake_ollama.state.embed_dimensions = 128
    settings.OLLAMA_EMBED_MODEL = "nomic-embed-text"
    result = search("Mastercard")
    assert result.keyword_only and "reindex" in result.note
    call_command("reindex")
    result = search("Mastercard")
    assert not result.keyword_only and result.hits[0].vector_score is not None
    assert Chunk.objects.get().embed_model == "nomic-embed-text" and Chunk.objects.get().embedding_dim == 128


def test_reindex_fails_loudly_when_the_model_is_missing(fake_ollama) -> None:
    article_create("payment", index=False)
    fake_ollama.state.models = ["deepseek-r1:7b"]
    with pytest.raises(Exception, match="could not be embedded"):
        call_command("reindex")


def test_publishing_and_faq_changes_bump_the_version(fake_ollama) -> None:
    article = article_create("payment", published=False)
    version = knowledge_version()
    articles_publish(article_ids=[article.pk])
    assert knowledge_version() > version
    version = knowledge_version()
    faq = faq_create("Q?", "A.", published=False)
    faqs_set_published(faq_ids=[faq.pk], published=True)
    assert knowledge_version() > version


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_import_turns_each_file_into_a_draft_and_reports_each_failure(fake_ollama) -> None:
    files = [
        ("shipping.md", (FILES / "shipping.md").read_bytes()),
        ("care.html", (FILES / "care.html").read_bytes()),
        ("warranty.pdf", (FILES / "warranty.pdf").read_bytes()),
        ("corrupt.pdf", (FILES / "corrupt.pdf").read_bytes()),
        ("folder.zip", _zip({"folder/退货政策.md": (FILES / "退货政策.md").read_bytes(),
                             "folder/scanned.pdf": (FILES / "scanned.pdf").read_bytes()})),
    ]
    job = import_job_create(files=files, rejected=[("huge.pdf", "the file is 30.0 MB; the limit is 10.0 MB")])
    assert job.total == 7 and job.processed == 1
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE and job.processed == job.total == 7
    outcome = {result["name"]: result for result in job.results}
    assert outcome["huge.pdf"]["error"] == "the file is 30.0 MB; the limit is 10.0 MB"
    assert "not a readable PDF" in outcome["corrupt.pdf"]["error"]
    assert "no extractable text" in outcome["folder.zip/folder/scanned.pdf"]["error"]
    assert outcome["folder.zip/folder/退货政策.md"]["title"] == "退货政策"
    drafts = Article.objects.filter(status=Article.Status.DRAFT)
    assert sorted(drafts.values_list("title", flat=True)) == [
        "Caring for your gaiwan", "Shipping and delivery", "Teaware warranty", "退货政策"
    ]
    assert drafts.get(title="退货政策").language == "zh-hans"
    assert drafts.get(title="Caring for your gaiwan").source_name == "care.html"
    # The uploaded bytes are not kept once processed.
    assert all(bytes(f.content) == b"" for f in job.files.all())


def test_import_job_that_is_run_again_adds_nothing(fake_ollama) -> None:
    job = import_job_create(files=[("shipping.md", (FILES / "shipping.md").read_bytes())])
    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)
    assert Article.objects.count() == 1


def test_demo_knowledge_loads_once(fake_ollama) -> None:
    assert demo_load(only_if_empty=True) == (10, 10)
    assert demo_load() == (0, 0)
    assert demo_load(only_if_empty=True) == (0, 0)
    assert Article.objects.filter(status=Article.Status.PUBLISHED, language="zh-hans").count() == 5
    assert FAQ.objects.filter(published=True, language="en").count() == 5
    assert all(a.public_url.startswith("https://") for a in Article.objects.all())


def test_indexing_past_its_time_budget_fails_with_advice_and_keeps_no_chunks(fake_ollama, settings) -> None:
    article = article_create("shipping")
    assert article.chunk_count == 2
    settings.KNOWLEDGE_INDEX_TIME_BUDGET_S = 0.000001
    article.body = "word " * 20_000
    article_save(article=article, content_changed=True, was_published=True)
    report = article_index(article_id=article.pk)
    article.refresh_from_db()
    assert report.outcome == "failed" and article.index_status == IndexStatus.FAILED
    assert article.index_error == (
        "indexing took longer than 1e-06 s: split the document into smaller articles"
        " (or raise KNOWLEDGE_INDEX_TIME_BUDGET_S)"
    )
    assert article.chunks.count() == 0
    assert len(fake_ollama.embed_requests()) == 1  # only the first indexing embedded anything


def test_import_reports_a_pdf_bomb_per_file_without_an_error_traceback(fake_ollama, caplog) -> None:
    from knowledge.tests.factories import pdf_bomb

    files = [("bomb.pdf", pdf_bomb()), ("shipping.md", (FILES / "shipping.md").read_bytes())]
    job = import_job_create(files=files)
    with caplog.at_level("WARNING"):
        job = import_job_run(job_id=job.pk)
    outcome = {result["name"]: result for result in job.results}
    assert outcome["bomb.pdf"]["ok"] is False
    assert outcome["bomb.pdf"]["error"].startswith("the PDF is too large to read or is a decompression bomb (")
    assert outcome["shipping.md"]["ok"] is True
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


def test_slow_embedding_past_the_time_budget_fails_the_article(fake_ollama, settings) -> None:
    settings.KNOWLEDGE_INDEX_TIME_BUDGET_S = 1.0
    settings.KNOWLEDGE_EMBED_BATCH = 1
    fake_ollama.state.embed_delay_s = 0.4
    body = "\n\n".join(f"## Section {i}\n\nParagraph {i} about shipping." for i in range(8))
    article = article_create(title="Slow", body=body)
    assert article.index_status == IndexStatus.FAILED
    assert article.index_error.startswith("indexing took longer than 1 s")
    assert 2 <= len(fake_ollama.embed_requests()) <= 4  # it stopped instead of embedding all 8 sections
    assert article.chunks.count() == 0


def test_an_added_entry_is_saved_with_its_editor_and_published(fake_ollama) -> None:
    from django.contrib.auth import get_user_model

    curator = get_user_model().objects.create_user("curator")
    before = knowledge_version()
    faq = faq_add(question="  Do you gift-wrap? ", answer="Yes, for 5 CNY.\n", language="en", editor=curator)
    faq.refresh_from_db()
    assert (faq.question, faq.answer, faq.published, faq.last_editor) == ("Do you gift-wrap?", "Yes, for 5 CNY.",
                                                                          True, curator)
    assert knowledge_version() > before


def test_a_phrasing_is_added_once_as_an_alternative(fake_ollama) -> None:
    faq = faq_create("运费多少钱?", "满199元包邮。", alternatives=("邮费怎么算",), language="zh-hans")
    before = knowledge_version()
    faq_phrasing_add(faq_id=faq.pk, phrasing="寄到 新疆\n运费多少")
    faq_phrasing_add(faq_id=faq.pk, phrasing="寄到新疆运费多少？")  # the same, normalised
    faq_phrasing_add(faq_id=faq.pk, phrasing="运费多少钱")  # the question itself
    faq.refresh_from_db()
    assert faq.alternatives.splitlines() == ["邮费怎么算", "寄到 新疆 运费多少"]
    assert knowledge_version() > before
