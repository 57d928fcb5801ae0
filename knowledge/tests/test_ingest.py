"""Files to clean Markdown, and Markdown to chunks, on small files kept beside this test."""

from __future__ import annotations

import io
import itertools
import zipfile
from pathlib import Path

import pytest

from helpdesk.llm.text import estimate_tokens
from knowledge.ingest import chunking
from knowledge.ingest.chunking import ChunkDraft, TimeBudgetExceeded, chunk_markdown
from knowledge.ingest.documents import document_from_file
from knowledge.ingest.uploads import IngestError, check_size, expand_upload

FILES = Path(__file__).parent / "files"


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def test_markdown_title_is_its_first_heading() -> None:
    document = document_from_file("shipping.md", read("shipping.md"))
    assert document.title == "Shipping and delivery"
    assert document.body.startswith("We send every order")
    assert "## Shipping fees" in document.body
    assert document.language == "en"


def test_chinese_markdown_is_recognised_as_chinese() -> None:
    document = document_from_file("退货政策.md", read("退货政策.md"))
    assert document.title == "退货政策"
    assert document.language == "zh-hans"
    assert "## 退货运费" in document.body


def test_html_is_sanitised_and_converted_to_markdown() -> None:
    document = document_from_file("care.html", read("care.html"))
    assert document.title == "Caring for your gaiwan"
    body = document.body
    for forbidden in ("script", "alert", "cookie", "onload", "onerror", "javascript:", "iframe", "evil", "color: red"):
        assert forbidden not in body.lower(), forbidden
    assert "## Cleaning" in body
    assert "**Never** use detergent" in body
    assert "- Dry it upside down" in body
    assert "[our guide](https://lumenleaf.example/help/care)" in body
    assert "Store it away from strong smells" in body  # the javascript: link keeps its text only


def test_pdf_text_is_extracted_page_by_page() -> None:
    document = document_from_file("warranty.pdf", read("warranty.pdf"))
    assert document.title == "Teaware warranty"
    paragraphs = document.body.split("\n\n")
    # Broken lines are rejoined into the sentence they belong to.
    assert paragraphs[0] == (
        "Every gaiwan and teapot carries a one-year warranty against manufacturing defects such as cracks in the glaze."
    )
    assert paragraphs[-1] == "Page two: the warranty does not cover accidental drops at home."


def test_chinese_pdf_lines_are_joined_without_spaces() -> None:
    document = document_from_file("invoice_zh.pdf", read("invoice_zh.pdf"))
    assert document.title == "发票开具说明"
    assert document.language == "zh-hans"
    assert "下单后九十天内可以在订单页面申请电子发票，我们会在三个工作日内开具。" in document.body


def test_gb18030_text_file_is_decoded() -> None:
    document = document_from_file("保存方法.txt", read("保存方法.txt"))
    assert document.title == "茶叶保存方法"
    assert "绿茶请冷藏保存" in document.body


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "the file is empty"),
        ("binary.txt", "does not look like a text file"),
        ("corrupt.pdf", "not a readable PDF"),
        ("scanned.pdf", "no extractable text"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        document_from_file(name, read(name))


def test_unsupported_type_names_what_is_supported() -> None:
    with pytest.raises(IngestError, match=r"unsupported file type \.docx; use Markdown"):
        document_from_file("manual.docx", b"PK...")


def test_html_with_nothing_but_script_has_no_text() -> None:
    with pytest.raises(IngestError, match="no text found"):
        document_from_file("x.html", b"<html><body><script>alert(1)</script></body></html>")


def test_size_limit_is_checked() -> None:
    with pytest.raises(IngestError, match=r"the limit is 1\.0 MB"):
        check_size("big.md", 2 * 1_048_576, 1_048_576)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_yields_each_document_and_skips_hidden_files() -> None:
    data = _zip({
        "help/shipping.md": read("shipping.md"),
        "help/__MACOSX/._shipping.md": b"junk",
        "help/.DS_Store": b"junk",
        "help/nested.zip": b"PK",
        "help/big.txt": b"x" * 2000,
    })
    found = dict(expand_upload("kb.zip", data, max_bytes=1000, max_files=10))
    assert set(found) == {"kb.zip/help/shipping.md", "kb.zip/help/nested.zip", "kb.zip/help/big.txt"}
    assert found["kb.zip/help/shipping.md"] == read("shipping.md")
    assert "inside archives" in str(found["kb.zip/help/nested.zip"])
    assert "unpacked; the limit is" in str(found["kb.zip/help/big.txt"])


def test_broken_zip_is_one_error() -> None:
    [(name, error)] = list(expand_upload("kb.zip", b"not a zip", max_bytes=1000, max_files=10))
    assert name == "kb.zip" and isinstance(error, IngestError)


def test_chunks_follow_headings() -> None:
    body = document_from_file("shipping.md", read("shipping.md")).body
    chunks = chunk_markdown(body, max_tokens=300, overlap_tokens=40)
    assert [c.heading for c in chunks] == ["", "Shipping fees", "Delivery times"]
    assert chunks[1].text.startswith("Orders over ¥199 ship free.")


def test_long_sections_split_within_budget_with_overlap() -> None:
    sentences = [f"Sentence number {i} explains one more detail of the policy." for i in range(60)]
    body = "## Policy\n\n" + " ".join(sentences)
    chunks = chunk_markdown(body, max_tokens=120, overlap_tokens=30)
    assert len(chunks) > 3
    assert all(c.token_count <= 120 for c in chunks)
    assert all(c.heading == "Policy" for c in chunks)
    # Each chunk after the first starts with the previous chunk's last sentence.
    for previous, current in itertools.pairwise(chunks):
        carried = current.text.split("\n")[0]
        assert carried.startswith("Sentence number") and previous.text.endswith(carried)
    # Nothing is lost.
    joined = " ".join(c.text for c in chunks)
    assert all(sentence in joined for sentence in sentences)


def test_a_chinese_paragraph_longer_than_a_chunk_is_cut_at_sentences() -> None:
    paragraph = "".join(f"第{i}条：退货需要在三十天内申请。" for i in range(80))
    chunks = chunk_markdown(paragraph, max_tokens=100, overlap_tokens=20)
    assert len(chunks) > 5
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)


@pytest.mark.parametrize("word", ["word ", "退货需要申请"], ids=["english", "chinese"])
def test_chunking_work_grows_linearly_on_text_without_sentence_ends(word: str, monkeypatch) -> None:
    """Counts the characters the chunker measures instead of timing it: 4x the text costs about 4x, not 16x."""
    measured = [0]

    def counting(function):
        def measure(text: str) -> int:
            measured[0] += len(text)
            return function(text)
        return measure

    monkeypatch.setattr(chunking, "estimate_tokens", counting(chunking.estimate_tokens))
    monkeypatch.setattr(chunking, "wide_chars", counting(chunking.wide_chars), raising=False)

    def chunk(repeats: int) -> tuple[int, list[ChunkDraft]]:
        measured[0] = 0
        chunks = chunk_markdown(word * repeats, max_tokens=200, overlap_tokens=30)
        return measured[0], chunks

    small_work, small = chunk(4_000)
    large_work, large = chunk(16_000)
    assert large_work <= 4.5 * small_work
    assert 3.9 * len(small) <= len(large) <= 4.1 * len(small)
    assert all(c.token_count <= 200 for c in small + large)
    assert "".join(large_chunk.text for large_chunk in large).replace(" ", "") == (word * 16_000).replace(" ", "")


def test_chunking_stops_past_its_deadline() -> None:
    import time

    with pytest.raises(TimeBudgetExceeded):
        chunk_markdown("word " * 50_000, max_tokens=200, overlap_tokens=30, deadline=time.monotonic() - 1)


def test_a_pdf_decompression_bomb_is_refused_as_too_large() -> None:
    from knowledge.tests.factories import pdf_bomb

    bomb = pdf_bomb()
    assert len(bomb) < 100_000
    with pytest.raises(IngestError, match=r"^the PDF is too large to read or is a decompression bomb \("):
        document_from_file("bomb.pdf", bomb)
