"""Markdown to plain text blocks in reading order, each under its heading path; titles and one-line text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark").enable("table")


@dataclass
class Block:
    headings: tuple[str, ...]
    text: str


def _inline_text(token: object) -> str:
    parts: list[str] = []
    for child in getattr(token, "children", None) or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def markdown_blocks(markdown: str) -> list[Block]:
    """Paragraphs, list items, code and table rows in reading order, each with its heading path."""
    tokens = _markdown.parse(markdown)
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    pending_heading: int | None = None
    list_depth = 0
    row: list[str] | None = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            pending_heading = int(token.tag[1])
        elif token.type == "inline" and pending_heading is not None:
            level = pending_heading
            headings = [h for h in headings if h[0] < level] + [(level, one_line(_inline_text(token)))]
            pending_heading = None
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(Block(tuple(h[1] for h in headings), " | ".join(row)))
            row = None
        elif token.type == "inline":
            text = _inline_text(token).strip()
            if row is not None:
                row.append(text)
            elif text:
                prefix = "- " if list_depth and tokens[index - 1].type == "paragraph_open" else ""
                blocks.append(Block(tuple(h[1] for h in headings), prefix + text))
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(tuple(h[1] for h in headings), token.content.strip()))
    return blocks


def plain_text(markdown: str) -> str:
    return "\n".join(block.text for block in markdown_blocks(markdown))



def one_line(text: str) -> str:
    """Titles, headings, link texts and table cells: whitespace and line breaks collapsed to single spaces."""
    return " ".join(text.split())


def split_markdown_title(text: str) -> tuple[str, str]:
    """The first `# ` heading is the title; the rest is the body."""
    match = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    if match and not text[: match.start()].strip():
        return match.group(1), text[match.end() :]
    return "", text
