"""Pages and sitemaps fetched over HTTP for synced sources: a conditional GET, bounded every way a page can hurt.

Only http(s); no private or internal address unless allowed (helpdesk.netguard); a redirect is followed only to
the same host, and checked again; the answer is read up to a size limit and within one deadline for the whole
fetch (not per read). Every refusal is an IngestError whose message is shown to the curator as is.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from helpdesk.netguard import AddressRefused, url_check

from .uploads import IngestError

MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "helpdesk-knowledge-sync/1.0"


@dataclass
class Fetched:
    status: int  # 200, or 304 (not modified since the ETag / Last-Modified given)
    url: str  # where the answer came from, after same-host redirects
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    location: str = ""  # a redirect's target (only inside url_fetch)


def url_fetch(
    url: str, *, etag: str = "", last_modified: str = "", max_bytes: int, timeout_s: float, allow_private: bool
) -> Fetched:
    """GET `url`, conditionally when a validator from the last fetch is given; raises IngestError with the reason."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout_s
    host = urlsplit(url).hostname
    current = url
    with httpx.Client(follow_redirects=False, timeout=timeout_s, trust_env=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                url_check(current, allow_private=allow_private)
            except AddressRefused as exc:
                raise IngestError(str(exc)) from exc
            fetched = _get(client, current, headers, max_bytes=max_bytes, deadline=deadline, timeout_s=timeout_s)
            if not fetched.location:
                return fetched
            target = urljoin(current, fetched.location)
            if urlsplit(target).hostname != host:
                raise IngestError(f"redirected to another host ({target[:200]}): not followed; use that address")
            current = target
    raise IngestError(f"more than {MAX_REDIRECTS} redirects")


def _get(client: httpx.Client, url: str, headers: dict[str, str], *, max_bytes: int, deadline: float,
         timeout_s: float) -> Fetched:
    """One request: the answer, or for a redirect its target in `location`."""
    try:
        with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 304:
                return Fetched(status=304, url=url, etag=response.headers.get("etag", ""),
                               last_modified=response.headers.get("last-modified", ""))
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("location", "")
                if not location:
                    raise IngestError(f"the server answered {status} without a Location")
                return Fetched(status=status, url=url, location=location)
            if status != 200:
                raise IngestError(f"the server answered {status} {response.reason_phrase}".strip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise IngestError(_too_big(max_bytes))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise IngestError(_too_big(max_bytes))
                if time.monotonic() > deadline:
                    raise IngestError(f"no whole answer within {timeout_s:g} s")
                chunks.append(chunk)
            return Fetched(
                status=200, url=url, body=b"".join(chunks),
                content_type=response.headers.get("content-type", "").split(";", 1)[0].strip().lower(),
                etag=response.headers.get("etag", ""), last_modified=response.headers.get("last-modified", ""),
            )
    except httpx.TimeoutException as exc:
        raise IngestError(f"no answer within {timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise IngestError(f"could not be reached ({type(exc).__name__}: {exc})"[:300]) from exc


def _too_big(max_bytes: int) -> str:
    return f"the page is larger than {max_bytes / 1_048_576:.1f} MB (KNOWLEDGE_SYNC_MAX_BYTES)"


def html_check(fetched: Fetched) -> None:
    """A page becomes an article only when it is HTML: a PDF or an image at a page's address is an error."""
    if fetched.content_type not in HTML_TYPES:
        raise IngestError(f"not an HTML page (content type {fetched.content_type or 'none'!r})")


@dataclass
class SitemapPages:
    urls: list[str]
    other_hosts: int = 0  # entries on another host than the sitemap's, left out
    left_out: int = 0  # entries past the limit


def sitemap_pages(data: bytes, *, sitemap_url: str, limit: int) -> SitemapPages:
    """The page addresses of a sitemap (<urlset>), in its order, once each, on the sitemap's own host only.

    A document that declares a DOCTYPE or entities is refused before parsing (no entity expansion bombs). A
    sitemap index is refused with a hint: each sitemap it lists is a source of its own.
    """
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise IngestError("the sitemap declares a DOCTYPE or entities: not read")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise IngestError(f"not a readable XML sitemap ({exc})") from exc
    tag = root.tag.rsplit("}", 1)[-1]
    if tag == "sitemapindex":
        raise IngestError("this is a sitemap index: add each sitemap it lists as a source of its own")
    if tag != "urlset":
        raise IngestError(f"not a sitemap (the root element is <{tag}>, not <urlset>)")
    host = urlsplit(sitemap_url).hostname
    found = SitemapPages(urls=[])
    seen: set[str] = set()
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "loc" or not (element.text or "").strip():
            continue
        page = urljoin(sitemap_url, element.text.strip())
        if urlsplit(page).scheme not in ("http", "https") or urlsplit(page).hostname != host:
            found.other_hosts += 1
            continue
        if page in seen:
            continue
        seen.add(page)
        if len(found.urls) >= limit:
            found.left_out += 1
            continue
        found.urls.append(page)
    return found
