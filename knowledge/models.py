"""The knowledge base: articles split into embedded chunks, FAQ entries, imports.

Vectors are stored as float32 bytes in the database (PostgreSQL here has no
pgvector) and searched in memory by `knowledge.retrieval`, which reloads them
when `KnowledgeState.version` changes: every change to what customers may be
told bumps it, in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class SyncedSource(models.Model):
    """A web page, or every page of a sitemap, kept in the knowledge base as articles and fetched again on a schedule.

    The fetched text of each page is kept on its SyncedPage, apart from the article: a curator's edit of an
    article's title or body is never overwritten by a later fetch (the new text waits on the page for review;
    see `knowledge.services.sync`).
    """

    class Kind(models.TextChoices):
        PAGE = "page", _("One page")
        SITEMAP = "sitemap", _("Sitemap (one article per page)")

    class Status(models.TextChoices):
        NEVER = "never", _("Not fetched yet")
        QUEUED = "queued", _("Queued")
        OK = "ok", _("OK")
        NOT_MODIFIED = "not_modified", _("Not modified")
        PARTIAL = "partial", _("Some pages failed")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(
        _("URL"), max_length=2000, help_text=_("The page's address, or the sitemap's (http or https).")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PAGE)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, blank=True,
        help_text=_("Leave empty to tell each page's language from its text."),
    )
    interval_minutes = models.PositiveIntegerField(
        _("fetch every (minutes)"), default=1440, validators=[MinValueValidator(5)]
    )
    enabled = models.BooleanField(_("enabled"), default=True, db_index=True)
    publish = models.BooleanField(
        _("publish new articles"), default=True,
        help_text=_("Articles made from new pages are published at once; otherwise they wait as drafts."),
    )
    # The sitemap's own validators (each page keeps its own on its SyncedPage).
    etag = models.CharField("ETag", max_length=500, blank=True, editable=False)
    last_modified = models.CharField("Last-Modified", max_length=100, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEVER,
                              editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_summary = models.CharField(_("last fetch"), max_length=500, blank=True, editable=False)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True, editable=False)
    next_fetch_at = models.DateTimeField(_("next fetch"), null=True, blank=True, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("synced source")
        verbose_name_plural = _("synced sources")

    def __str__(self) -> str:
        return self.name


class SyncedPage(models.Model):
    """One fetched page of a source, the article made from it, and the page's text as last fetched."""

    class Status(models.TextChoices):
        NEW = "new", _("Not fetched yet")
        CREATED = "created", _("Article created")
        UPDATED = "updated", _("Article updated")
        NOT_MODIFIED = "not_modified", _("Not modified (304)")
        UNCHANGED = "unchanged", _("Fetched, text unchanged")
        HELD = "held", _("Changed, held for review (edited locally)")
        FAILED = "failed", _("Failed")
        REMOVED = "removed", _("No longer in the sitemap")
        DELETED = "deleted", _("Article deleted by a curator: not re-created")

    source = models.ForeignKey(SyncedSource, on_delete=models.CASCADE, related_name="pages")
    url = models.URLField(_("URL"), max_length=2000)
    article = models.OneToOneField(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="synced_page"
    )
    etag = models.CharField("ETag", max_length=500, blank=True)
    last_modified = models.CharField("Last-Modified", max_length=100, blank=True)
    # The page's text as last fetched and cleaned; its hash; and the hash of the text last written into the
    # article. The article differs from `applied_hash` once a curator edited it.
    fetched_title = models.CharField(_("fetched title"), max_length=200, blank=True)
    fetched_body = models.TextField(_("fetched text"), blank=True)
    fetched_hash = models.CharField(max_length=64, blank=True)
    applied_hash = models.CharField(max_length=64, blank=True)
    held = models.BooleanField(_("new text held for review"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    error = models.TextField(_("error"), blank=True)
    fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)

    class Meta:
        ordering = ["source_id", "url"]
        verbose_name = _("synced page")
        verbose_name_plural = _("synced pages")
        constraints = [models.UniqueConstraint(fields=["source", "url"], name="synced_page_unique")]

    def __str__(self) -> str:
        return self.url
