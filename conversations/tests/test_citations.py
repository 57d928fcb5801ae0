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


def test_text_split_anywhere_gives_the_words_and_citations_the_whole_does() -> None:
    import random

    from conversations.pipeline.citations import CitationFilter

    rng = random.Random(18)
    words = ["Parcels", "leave", "[1]", "[2, 3]", "【1】", "[9]", "[NO-ANSWER]", "in", "2-4", "days.", " ", "\t", "["]
    for _ in range(500):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 15)))
        whole = CitationFilter(3)
        expected = whole.feed(text) + whole.finish()
        split = CitationFilter(3)
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(1, 6))))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        streamed = "".join(split.feed(piece) for piece in pieces) + split.finish()
        # The words alike (a space before a marker may be held or not, by where the pieces were cut).
        assert streamed.split() == expected.split(), (text, pieces)
        assert (split.cited, split.no_answer) == (whole.cited, whole.no_answer)
