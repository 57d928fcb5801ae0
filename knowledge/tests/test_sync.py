"""Synced sources against a real local web site: conditional GETs, re-indexing only what changed, the curator's
edits kept, and every kind of failure stored per page and per source."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from knowledge.models import Article, SyncedPage, SyncedSource
from knowledge.retrieval.search import search
from knowledge.services.articles import article_save
from knowledge.services.sync import pages_take_fetched, source_sync, sources_fetch_now, sources_sync_due

pytestmark = pytest.mark.django_db


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay_s: float = 0.0
    location: str = ""
    validators: bool = True  # sends ETag and Last-Modified, and answers 304 to a matching conditional GET
    modified: float = field(default_factory=lambda: time.time() - 3600)


@dataclass
class Site:
    """A small web site: pages by path, each with an ETag (its content's hash) and a Last-Modified date."""

    url: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)  # path, headers, status

    def put(self, path: str, html: str = "", **options: Any) -> None:
        page = Page(body=html.encode(), **options)
        old = self.pages.get(path)
        if old is not None and "modified" not in options:
            page.modified = max(old.modified + 2, time.time())
        self.pages[path] = page

    def statuses(self, path: str) -> list[int]:
        return [status for requested, _headers, status in self.requests if requested == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            page = site.pages.get(self.path)
            headers = {key.lower(): value for key, value in self.headers.items()}
            if page is None:
                return self._send(404, b"<h1>Not found</h1>", {"Content-Type": "text/html"})
            time.sleep(page.delay_s)
            extra = {"Content-Type": page.content_type}
            if page.location:
                extra["Location"] = page.location
            if page.validators and page.status == 200:
                etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
                modified = formatdate(page.modified, usegmt=True)
                extra.update({"ETag": etag, "Last-Modified": modified})
                if headers.get("if-none-match") == etag:
                    return self._send(304, b"", {"ETag": etag})
            self._send(page.status, page.body, extra)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

    return Handler


@pytest.fixture
def site(settings: Any) -> Iterator[Site]:
    """The site on 127.0.0.1, which the tests may fetch (KNOWLEDGE_SYNC_ALLOW_PRIVATE), with short limits."""
    settings.KNOWLEDGE_SYNC_ALLOW_PRIVATE = True
    settings.KNOWLEDGE_SYNC_TIMEOUT_S = 1.0
    settings.KNOWLEDGE_SYNC_MAX_BYTES = 100_000
    web = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(web))
    server.daemon_threads = True
    web.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield web
    server.shutdown()
    server.server_close()
    thread.join(5)


RETURNS_V1 = """<html><head><title>Returns policy</title><script>steal()</script></head><body>
<nav>Home | Shop</nav><h1>Returns policy</h1>
<h2>Return window</h2><p>You can return unopened tea within <strong>30 days</strong> of delivery.</p>
<h2>Refund timing</h2><p>Refunds reach your card within 5 working days.</p></body></html>"""

RETURNS_V2 = RETURNS_V1.replace("30 days", "60 days")

SHIPPING = """<html><head><title>Shipping abroad</title></head><body>
<h2>Countries</h2><p>We ship parcels to Canada, Japan and Germany by express courier.</p></body></html>"""

WARRANTY_ZH = """<html><head><title>茶具保修</title></head><body>
<h2>保修期限</h2><p>紫砂壶和盖碗自购买之日起享受一年保修，人为摔碎不在保修范围内。</p></body></html>"""


def _sitemap(site: Site, *paths: str) -> str:
    entries = "".join(f"<url><loc>{site.url}{path}</loc></url>" for path in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' \
           f"{entries}</urlset>"


def _source(site: Site, path: str, *, kind: str = SyncedSource.Kind.PAGE, **fields: Any) -> SyncedSource:
    return SyncedSource.objects.create(name=path, url=site.url + path, kind=kind, **fields)


def _embed_calls(fake_ollama: Any) -> int:
    return sum(1 for request in fake_ollama.state.requests if request.path == "/api/embed")


def _top_text(question: str) -> str:
    hits = search(question).hits
    return hits[0].text if hits else ""


def test_a_sitemap_makes_one_published_indexed_article_per_page_which_answers_questions(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.put("/help/shipping", SHIPPING)
    site.put("/sitemap.xml", _sitemap(site, "/help/returns", "/help/shipping"), content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)

    report = source_sync(source_id=source.pk)

    assert report.status == SyncedSource.Status.OK, report
    articles = {a.title: a for a in Article.objects.all()}
    assert set(articles) == {"Returns policy", "Shipping abroad"}
    returns = articles["Returns policy"]
    assert returns.status == Article.Status.PUBLISHED and returns.index_status == "indexed" and returns.embedded
    assert returns.public_url == site.url + "/help/returns"
    # Cleaned as an imported .html file is: the script and its text are gone, the headings kept.
    assert "steal" not in returns.body and "## Return window" in returns.body
    hit = search("How many days do I have to return tea?").hits[0]
    assert hit.title == "Returns policy" and "30 days" in hit.text
    assert search("Do you ship to Japan?").hits[0].title == "Shipping abroad"
    source.refresh_from_db()
    assert source.last_fetched_at and source.next_fetch_at > timezone.now() and source.last_error == ""
    assert source.etag  # the sitemap's own validators, for its next conditional GET


def test_a_second_fetch_is_conditional_gets_304_and_reindexes_nothing(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    article = Article.objects.get()
    version, embeds = article.version, _embed_calls(fake_ollama)

    report = source_sync(source_id=source.pk)

    _path, headers, status = site.requests[-1]
    assert status == 304 and headers["if-none-match"].startswith('"') and "if-modified-since" in headers
    assert report.status == SyncedSource.Status.NOT_MODIFIED and report.indexed == [], report
    assert _embed_calls(fake_ollama) == embeds
    article.refresh_from_db()
    assert article.version == version
    assert SyncedPage.objects.get().status == SyncedPage.Status.NOT_MODIFIED


def test_a_page_without_validators_whose_text_did_not_change_is_not_reindexed(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1, validators=False)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    embeds = _embed_calls(fake_ollama)
    # Only markup that never reaches the article changed (a script): the same text, nothing to index.
    site.put("/help/returns", RETURNS_V1.replace("steal()", "track()"), validators=False)

    report = source_sync(source_id=source.pk)

    assert site.statuses("/help/returns") == [200, 200]
    assert report.indexed == [] and _embed_calls(fake_ollama) == embeds
    assert SyncedPage.objects.get().status == SyncedPage.Status.UNCHANGED


def test_a_changed_page_is_reindexed_and_the_answer_changes(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.put("/help/shipping", SHIPPING)
    site.put("/sitemap.xml", _sitemap(site, "/help/returns", "/help/shipping"), content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)
    source_sync(source_id=source.pk)
    assert "30 days" in _top_text("How many days do I have to return tea?")

    site.put("/help/returns", RETURNS_V2)
    report = source_sync(source_id=source.pk)

    returns = Article.objects.get(title="Returns policy")
    assert report.indexed == [returns.pk]  # the shipping page answered 304: only the changed one
    assert returns.version == 2 and returns.indexed_version == 2
    assert "60 days" in _top_text("How many days do I have to return tea?")
    assert "30 days" not in _top_text("How many days do I have to return tea?")
    statuses = dict(SyncedPage.objects.values_list("url", "status"))
    assert statuses == {site.url + "/help/returns": "updated", site.url + "/help/shipping": "not_modified"}


def test_a_curators_edit_survives_a_change_of_the_page_and_the_new_text_waits_for_review(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    article = Article.objects.get()
    article.body += "\n\nVIP members may return opened tea too."
    article_save(article=article, content_changed=True, was_published=True)
    edited = Article.objects.get().body

    site.put("/help/returns", RETURNS_V2)
    report = source_sync(source_id=source.pk)

    article = Article.objects.get()
    assert article.body == edited and "30 days" in article.body  # nothing of the curator's text is lost
    page = SyncedPage.objects.get()
    assert page.status == SyncedPage.Status.HELD and page.held and "60 days" in page.fetched_body
    assert report.indexed == []
    # A fetch with nothing new keeps holding it (and still does not touch the article).
    source_sync(source_id=source.pk)
    assert SyncedPage.objects.get().held and Article.objects.get().body == edited

    # The curator takes the fetched text on purpose: now the page's change reaches the article.
    assert pages_take_fetched(page_ids=[page.pk]) == 1
    article.refresh_from_db()
    assert "60 days" in article.body and "VIP" not in article.body
    assert not SyncedPage.objects.get().held


def test_tags_and_unpublishing_are_the_curators_and_a_fetch_keeps_them(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    Article.objects.update(tags="退货, refund", status=Article.Status.DRAFT)

    site.put("/help/returns", RETURNS_V2)
    source_sync(source_id=source.pk)

    article = Article.objects.get()
    assert "60 days" in article.body  # tags are not the text: the page's change still applies
    assert article.tags == "退货, refund" and article.status == Article.Status.DRAFT


def test_an_article_a_curator_deleted_is_not_recreated(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    Article.objects.all().delete()
    site.put("/help/returns", RETURNS_V2)

    source_sync(source_id=source.pk)

    assert not Article.objects.exists()
    assert SyncedPage.objects.get().status == SyncedPage.Status.DELETED


def test_a_page_gone_from_the_sitemap_goes_back_to_draft(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.put("/help/shipping", SHIPPING)
    site.put("/sitemap.xml", _sitemap(site, "/help/returns", "/help/shipping"), content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)
    source_sync(source_id=source.pk)
    site.put("/sitemap.xml", _sitemap(site, "/help/returns"), content_type="application/xml")

    source_sync(source_id=source.pk)

    assert Article.objects.get(title="Shipping abroad").status == Article.Status.DRAFT
    assert Article.objects.get(title="Returns policy").status == Article.Status.PUBLISHED
    assert SyncedPage.objects.get(url__endswith="/help/shipping").status == SyncedPage.Status.REMOVED


def test_a_source_whose_address_changed_sends_the_old_pages_article_back_to_draft(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.put("/help/shipping", SHIPPING)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    SyncedSource.objects.filter(pk=source.pk).update(url=site.url + "/help/shipping")

    source_sync(source_id=source.pk)

    statuses = dict(Article.objects.values_list("title", "status"))
    assert statuses == {"Returns policy": "draft", "Shipping abroad": "published"}


def test_a_sitemap_gives_at_most_the_configured_pages_on_its_own_host(site, fake_ollama, settings) -> None:
    settings.KNOWLEDGE_SYNC_MAX_PAGES = 2
    for name in ("a", "b", "c"):
        site.put(f"/p/{name}", SHIPPING.replace("Shipping abroad", f"Shipping {name}"))
    sitemap = _sitemap(site, "/p/a", "/p/b", "/p/c").replace(
        "</urlset>", "<url><loc>https://elsewhere.example/x</loc></url></urlset>"
    )
    site.put("/sitemap.xml", sitemap, content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)

    report = source_sync(source_id=source.pk)

    assert Article.objects.count() == 2
    assert report.counts["past KNOWLEDGE_SYNC_MAX_PAGES, left out"] == 1
    assert report.counts["on another host, left out"] == 1


def test_a_chinese_page_is_segmented_for_keyword_search(site, fake_ollama) -> None:
    site.put("/zh/warranty", WARRANTY_ZH)
    source = _source(site, "/zh/warranty")
    source_sync(source_id=source.pk)
    article = Article.objects.get()
    assert article.language == "zh-hans" and article.title == "茶具保修"
    fake_ollama.state.models = ["deepseek-r1:7b"]  # no embedding model: keyword search alone must find it

    result = search("盖碗摔碎了能保修吗")

    assert result.keyword_only and result.hits[0].title == "茶具保修"
    assert "保修" in article.chunks.get().search_tokens.split()


@pytest.mark.parametrize(
    ("path", "page", "error"),
    [
        ("/missing", None, "404"),
        ("/broken", Page(b"oops", status=500), "500"),
        ("/slow", Page(b"<p>late</p>", delay_s=2.5), "within 1 s"),
        ("/huge", Page(b"<p>" + b"x" * 200_000 + b"</p>"), "larger than"),
        ("/file.pdf", Page(b"%PDF-1.4", content_type="application/pdf"), "not an HTML page"),
        ("/away", Page(b"", status=302, location="https://elsewhere.example/page"), "another host"),
        ("/empty", Page(b"<html><body><script>x()</script></body></html>"), "no text found"),
    ],
    ids=["404", "500", "timeout", "too-big", "not-html", "redirect-elsewhere", "no-text"],
)
def test_a_failure_is_stored_and_shown_and_does_not_stop_other_sources(site, fake_ollama, path, page, error) -> None:
    if page is not None:
        site.pages[path] = page
    site.put("/help/returns", RETURNS_V1)
    broken, fine = _source(site, path), _source(site, "/help/returns")

    report = source_sync(source_id=broken.pk)
    source_sync(source_id=fine.pk)

    broken.refresh_from_db()
    assert report.status == broken.status == SyncedSource.Status.FAILED
    assert error in broken.last_error and broken.next_fetch_at is not None
    assert error in SyncedPage.objects.get(source=broken).error
    fine.refresh_from_db()
    assert fine.status == SyncedSource.Status.OK and Article.objects.get().title == "Returns policy"


def test_a_failure_later_keeps_the_article_and_says_so(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    source = _source(site, "/help/returns")
    source_sync(source_id=source.pk)
    site.pages["/help/returns"] = Page(b"down", status=500)

    source_sync(source_id=source.pk)

    source.refresh_from_db()
    assert source.status == SyncedSource.Status.FAILED and "500" in source.last_error
    assert "30 days" in _top_text("How many days do I have to return tea?")


def test_one_failing_page_of_a_sitemap_makes_the_source_partial(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.put("/sitemap.xml", _sitemap(site, "/help/returns", "/gone"), content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)

    source_sync(source_id=source.pk)

    source.refresh_from_db()
    assert source.status == SyncedSource.Status.PARTIAL and "/gone" in source.last_error and "404" in source.last_error
    assert Article.objects.get().title == "Returns policy"


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.7", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]"]
)
def test_private_and_internal_addresses_are_refused_by_default(site, fake_ollama, settings, address) -> None:
    settings.KNOWLEDGE_SYNC_ALLOW_PRIVATE = False
    site.put("/help/returns", RETURNS_V1)
    port = site.url.rsplit(":", 1)[1]
    source = SyncedSource.objects.create(name="inside", url=f"http://{address}:{port}/help/returns")

    source_sync(source_id=source.pk)

    source.refresh_from_db()
    assert source.status == SyncedSource.Status.FAILED and "private or internal address" in source.last_error
    assert site.requests == [] and not Article.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>',
         "DOCTYPE"),
        ('<?xml version="1.0"?><sitemapindex><sitemap><loc>/s1.xml</loc></sitemap></sitemapindex>', "sitemap index"),
        ("<html><body>not xml", "not a readable XML sitemap"),
        ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
         "lists no page"),
    ],
    ids=["entities", "index", "not-xml", "empty"],
)
def test_a_sitemap_that_cannot_be_read_is_a_failure_with_its_reason_and_removes_nothing(site, fake_ollama, body,
                                                                                       error) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.put("/sitemap.xml", _sitemap(site, "/help/returns"), content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)
    source_sync(source_id=source.pk)
    site.put("/sitemap.xml", body, content_type="application/xml")

    source_sync(source_id=source.pk)

    source.refresh_from_db()
    assert source.status == SyncedSource.Status.FAILED and error in source.last_error
    assert Article.objects.get().status == Article.Status.PUBLISHED


def test_a_redirect_on_the_same_host_is_followed(site, fake_ollama) -> None:
    site.put("/help/returns", RETURNS_V1)
    site.pages["/old-returns"] = Page(b"", status=301, location="/help/returns")
    source = _source(site, "/old-returns")

    report = source_sync(source_id=source.pk)

    assert report.status == SyncedSource.Status.OK and Article.objects.get().title == "Returns policy"
    assert site.statuses("/old-returns") == [301] and site.statuses("/help/returns") == [200]


def test_a_time_budget_spent_leaves_pages_for_the_next_fetch_which_takes_them_first(site, fake_ollama,
                                                                                     settings) -> None:
    settings.KNOWLEDGE_SYNC_TIME_BUDGET_S = 0.2
    site.put("/p/a", SHIPPING.replace("Shipping abroad", "Shipping a"), delay_s=0.3)
    site.put("/p/b", SHIPPING.replace("Shipping abroad", "Shipping b"), delay_s=0.3)
    site.put("/sitemap.xml", _sitemap(site, "/p/a", "/p/b"), content_type="application/xml")
    source = _source(site, "/sitemap.xml", kind=SyncedSource.Kind.SITEMAP)

    first = source_sync(source_id=source.pk)
    second = source_sync(source_id=source.pk)

    assert first.counts["left for the next fetch"] == 1 and second.counts["left for the next fetch"] == 1
    assert set(Article.objects.values_list("title", flat=True)) == {"Shipping a", "Shipping b"}


def test_only_due_enabled_sources_are_queued_once(site, django_capture_on_commit_callbacks) -> None:
    now = timezone.now()
    due = _source(site, "/a", next_fetch_at=now - timezone.timedelta(minutes=1), interval_minutes=60)
    new = _source(site, "/b")
    _source(site, "/c", next_fetch_at=now + timezone.timedelta(minutes=5))
    _source(site, "/d", enabled=False)

    with django_capture_on_commit_callbacks() as queued:
        assert sources_sync_due(now=now) == 2
    with django_capture_on_commit_callbacks() as again:
        assert sources_sync_due(now=now) == 0  # claimed: the next tick does not queue them twice

    assert len(queued) == 2 and again == []
    due.refresh_from_db()
    new.refresh_from_db()
    assert due.next_fetch_at == now + timezone.timedelta(minutes=60)
    assert new.next_fetch_at == now + timezone.timedelta(minutes=1440)


def test_fetch_now_queues_a_fetch(site, django_capture_on_commit_callbacks) -> None:
    source = _source(site, "/a", enabled=False)
    with django_capture_on_commit_callbacks() as queued:
        assert sources_fetch_now(source_ids=[source.pk]) == 1
    source.refresh_from_db()
    assert len(queued) == 1 and source.status == SyncedSource.Status.QUEUED


def test_the_beat_looks_for_due_sources_on_the_knowledge_queue(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["knowledge-sync"]
    assert entry["task"] == "knowledge.sync_sources_due" and float(entry["schedule"]) <= 3600
    from helpdesk.celery import app

    for task in ("knowledge.sync_sources_due", "knowledge.sync_source"):
        assert app.amqp.router.route({}, task)["queue"].name == "knowledge"


# --- admin ------------------------------------------------------------------------------------------------------

def test_admin_lists_each_sources_status_error_and_next_fetch(site, fake_ollama, staff_client) -> None:
    from django.urls import reverse

    site.put("/help/returns", RETURNS_V1)
    fine, broken = _source(site, "/help/returns"), _source(site, "/missing")
    source_sync(source_id=fine.pk)
    source_sync(source_id=broken.pk)

    page = staff_client.get(reverse("admin:knowledge_syncedsource_changelist")).content.decode()

    assert "404" in page and "Failed" in page and "OK" in page and "next fetch" in page.lower()
    detail = staff_client.get(reverse("admin:knowledge_syncedsource_change", args=[fine.pk])).content.decode()
    assert "Returns policy" in detail and "Article created" in detail and "held on the page for review" in detail


def test_admin_adds_a_source_and_speaks_chinese(staff_client, settings) -> None:
    from django.urls import reverse

    response = staff_client.post(reverse("admin:knowledge_syncedsource_add"), {
        "name": "帮助中心", "url": "https://shop.example/sitemap.xml", "kind": "sitemap", "language": "zh-hans",
        "interval_minutes": "60", "enabled": "on", "publish": "on",
        "pages-TOTAL_FORMS": "0", "pages-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    source = SyncedSource.objects.get()
    assert (source.kind, source.interval_minutes, source.status) == ("sitemap", 60, SyncedSource.Status.NEVER)
    settings.LANGUAGE_CODE = "zh-hans"
    page = staff_client.get(reverse("admin:knowledge_syncedsource_changelist"),
                            HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "同步来源" in page and "尚未抓取" in page


def test_a_synced_articles_admin_page_says_whether_a_fetch_may_still_replace_its_text(site, fake_ollama,
                                                                                     staff_client) -> None:
    from django.urls import reverse

    site.put("/help/returns", RETURNS_V1)
    source_sync(source_id=_source(site, "/help/returns").pk)
    article = Article.objects.get()
    url = reverse("admin:knowledge_article_change", args=[article.pk])
    assert "kept in step with the page" in staff_client.get(url).content.decode()

    article.body += "\n\nOur own note."
    article_save(article=article, content_changed=True, was_published=True)

    page = staff_client.get(url).content.decode()
    assert "edited locally; changes of the page will be held" in page and site.url + "/help/returns" in page
