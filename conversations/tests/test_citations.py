"""conversations.pipeline.citations: markers taken out of streamed text, and which sources were cited."""

from __future__ import annotations

from conversations.pipeline.citations import CitationFilter


def test_citation_markers_are_removed_and_remembered_even_when_split_across_chunks() -> None:
    citations = CitationFilter(3)
    pieces = ["Orders over ¥199 ship free [", "1", "]. Returns take 30 days", " [2,", " 3]", "."]
    text = "".join(citations.feed(piece) for piece in pieces) + citations.finish()
    assert text == "Orders over ¥199 ship free. Returns take 30 days."
    assert citations.cited == {1, 2, 3}


def test_chinese_brackets_count_and_numbers_outside_the_sources_stay_text() -> None:
    citations = CitationFilter(2)
    text = citations.feed("满199元包邮【1】。我们的电话是[9]号线") + citations.finish()
    assert text == "满199元包邮。我们的电话是[9]号线"
    assert citations.cited == {1}


def test_without_sources_brackets_are_left_alone() -> None:
    citations = CitationFilter(0)
    assert citations.feed("see [1]") + citations.finish() == "see [1]"
