"""The knowledge base: articles split into embedded chunks, FAQ entries, imports.

Vectors are stored as float32 bytes in the database (PostgreSQL here has no
pgvector) and searched in memory by `knowledge.retrieval`, which reloads them
when `KnowledgeState.version` changes: every change to what customers may be
told bumps it, in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Language(models.TextChoices):
    EN = "en", "English"
    ZH_HANS = "zh-hans", "简体中文"


class IndexStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    INDEXED = "indexed", "Indexed"
    FAILED = "failed", "Failed"


class KnowledgeState(models.Model):
    """One row: the knowledge-base version, part of every answer-cache key."""

    version = models.BigIntegerField(default=1)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "knowledge-base state"

    def __str__(self) -> str:
        return f"knowledge base v{self.version}"


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    body = models.TextField("body (Markdown)", blank=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN, db_index=True)
    tags = models.CharField(max_length=255, blank=True, help_text="Comma-separated.")
    public_url = models.URLField(
        "public URL", blank=True, help_text="Shown to customers as the source of an answer, when set."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Counts saves that changed the title or body: the index records which one it holds.
    version = models.PositiveIntegerField(default=1, editable=False)
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    source_name = models.CharField("imported from", max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    index_status = models.CharField(
        max_length=16, choices=IndexStatus.choices, default=IndexStatus.PENDING, editable=False, db_index=True
    )
    index_error = models.TextField(blank=True, editable=False)
    indexed_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    chunk_count = models.PositiveIntegerField(default=0, editable=False)
    # Every chunk of the indexed version has a vector from `embed_model` (else keyword search only).
    embedded = models.BooleanField("has vectors", default=False, editable=False)
    embed_model = models.CharField(max_length=128, blank=True, editable=False)
    indexed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]


class Chunk(models.Model):
    """A passage of an article, as retrieval finds it and the prompt cites it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    # Words from Chinese segmentation and English tokenisation, space-separated, for BM25.
    search_tokens = models.TextField(blank=True)
    token_count = models.PositiveIntegerField(default=0)
    embedding = models.BinaryField(null=True, blank=True)  # float32, unit length
    embedding_dim = models.PositiveIntegerField(null=True, blank=True)
    embed_model = models.CharField(max_length=128, blank=True)
    article_version = models.PositiveIntegerField()

    class Meta:
        ordering = ["article_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["article", "ordinal"], name="chunk_ordinal_unique")]

    def __str__(self) -> str:
        return f"{self.article_id}#{self.ordinal} {self.heading[:40]}"


class FAQ(models.Model):
    """A question answered directly, without the LLM, when a customer asks it closely enough."""

    question = models.CharField(max_length=500)
    alternatives = models.TextField(
        "alternative phrasings", blank=True, help_text="One per line: other ways customers ask the same."
    )
    answer = models.TextField()
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN, db_index=True)
    published = models.BooleanField(default=False, db_index=True)
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # One vector per phrasing (the question first), float32 rows, unit length.
    embeddings = models.BinaryField(null=True, blank=True, editable=False)
    embedding_dim = models.PositiveIntegerField(null=True, blank=True, editable=False)
    embed_model = models.CharField(max_length=128, blank=True, editable=False)
    index_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["question"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question

    @property
    def phrasings(self) -> list[str]:
        return [self.question.strip()] + [line.strip() for line in self.alternatives.splitlines() if line.strip()]


class ImportJob(models.Model):
    """Files uploaded together in admin, turned into draft articles in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    # One entry per document: {"name", "ok", "article_id"?, "title"?, "error"?}
    results = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.processed}/{self.total})"


class ImportFile(models.Model):
    """An uploaded file waiting for its import job; its bytes are dropped once processed."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    processed = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
