"""HTML to Markdown: sanitised by nh3 first (scripts, styles, event handlers and unknown tags go)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from .markdown import one_line

HTML_KEPT_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "ul", "ol", "li", "a", "strong", "b", "em", "i",
    "code", "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "div", "section", "article",
}


class _TitleFinder(HTMLParser):
    """Reads the <title> (or the first <h1>) without running anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("title", "h1") and self._in is None:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title" and not self.title.strip():
            self.title += data
        elif self._in == "h1" and not self.h1.strip():
            self.h1 += data


class _MarkdownWriter(HTMLParser):
    """Sanitised HTML to Markdown: headings, paragraphs, lists, links, emphasis, code, tables."""

    BLOCKS = {"p", "div", "section", "article", "blockquote", "table", "ul", "ol", "pre"}
    # Inline tags and the Markdown that opens and closes them alike.
    MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.list_depth = 0
        self.in_pre = False
        self.href: str | None = None
        self.link_text: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.rows_in_table = 0

    def _emit(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        elif self.href is not None:
            self.link_text.append(text)
        else:
            self.out.append(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
            if tag in ("ul", "ol"):
                self.list_depth += 1
            if tag == "table":
                self.rows_in_table = 0
            if tag == "pre":
                self.in_pre = True
                self.out.append("```\n")
        elif tag == "li":
            self.out.append("\n" + "  " * max(self.list_depth - 1, 0) + "- ")
        elif tag == "br":
            self._emit("\n")
        elif tag in self.MARKS or (tag == "code" and not self.in_pre):
            self._emit(self.MARKS.get(tag, "`"))
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.href = href if href.startswith(("http://", "https://", "mailto:")) else ""
            self.link_text = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.out.append("\n\n")
        elif tag in self.BLOCKS:
            if tag == "pre":
                self.in_pre = False
                self.out.append("\n```")
            if tag in ("ul", "ol"):
                self.list_depth = max(self.list_depth - 1, 0)
            self.out.append("\n\n")
        elif tag in self.MARKS or (tag == "code" and not self.in_pre):
            self._emit(self.MARKS.get(tag, "`"))
        elif tag == "a" and self.href is not None:
            text = one_line("".join(self.link_text))
            href, self.href = self.href, None
            self._emit(f"[{text}]({href})" if href and text else text)
        elif tag in ("td", "th") and self.cell is not None:
            if self.row is not None:
                self.row.append(one_line("".join(self.cell)))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.out.append("\n| " + " | ".join(self.row) + " |")
            if self.rows_in_table == 0:  # Markdown tables need the separator under the first row
                self.out.append("\n|" + " --- |" * len(self.row))
            self.rows_in_table += 1
            self.row = None

    def handle_data(self, data: str) -> None:
        self._emit(data if self.in_pre else re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        text = "".join(self.out)
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n[ \t]+(?=[^-\s])", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str) -> tuple[str, str]:
    """Sanitise (scripts, styles, event handlers and unknown tags go), then write Markdown."""
    finder = _TitleFinder()
    finder.feed(html)
    title = one_line(finder.title) or one_line(finder.h1)
    clean = nh3.clean(
        html,
        tags=HTML_KEPT_TAGS,
        clean_content_tags={"script", "style", "title", "noscript", "template", "iframe", "object", "svg"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    writer = _MarkdownWriter()
    writer.feed(clean)
    body = writer.markdown()
    if title:
        # The page's own top heading repeats the title: do not keep it twice.
        body = re.sub(rf"^#\s+{re.escape(title)}\s*\n", "", body, count=1)
    return title, body
