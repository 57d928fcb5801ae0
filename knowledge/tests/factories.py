"""Knowledge-base objects for tests, indexed for real against the fake Ollama (hashed word vectors)."""

from __future__ import annotations

import zlib

from django.db import transaction

from knowledge.models import FAQ, Article
from knowledge.services.demo import demo_load
from knowledge.services.faq import faq_index
from knowledge.services.indexing import article_index
from knowledge.services.version import knowledge_version_bump

# A small bilingual knowledge base: each article covers distinct questions.
ARTICLES = {
    "shipping": (
        "Shipping and delivery",
        "en",
        "## Shipping fees\n\nOrders over ¥199 ship free. Smaller orders pay a flat ¥12 standard shipping fee.\n\n"
        "## Delivery times\n\nParcels are dispatched within 24 hours on working days and arrive in 2-4 days "
        "by SF Express courier.",
    ),
    "returns": (
        "Returns and refunds",
        "en",
        "## Returning an item\n\nYou can send back unopened tea within 30 days of delivery for a refund.\n\n"
        "## Refund timing\n\nRefunds reach your original payment method within 3-5 working days after we "
        "receive the parcel.",
    ),
    "payment": (
        "Payment methods",
        "en",
        "## Accepted cards and wallets\n\nWe accept Alipay, WeChat Pay, UnionPay and Visa or Mastercard credit "
        "cards.",
    ),
    "returns_zh": (
        "退货与退款",
        "zh-hans",
        "## 退货期限\n\n收到商品后三十天内可以申请退货，茶叶需未拆封。\n\n"
        "## 退货运费\n\n商品有质量问题时由我们承担退货运费；无理由退货的运费由顾客自己承担。\n\n"
        "## 退款时间\n\n我们收到退货后，三到五个工作日内把钱退回原支付账户。",
    ),
    "invoice_zh": (
        "发票开具",
        "zh-hans",
        "## 如何申请发票\n\n下单后九十天内可以在订单页面申请电子发票，三个工作日内开具。\n\n"
        "## 专用发票\n\n需要增值税专用发票时，请提供公司名称和税号。",
    ),
}


def article_create(key: str | None = None, *, title: str = "", body: str = "", language: str = "en",
                   published: bool = True, public_url: str = "", index: bool = True, tags: str = "") -> Article:
    """An article stored and (by default) indexed synchronously, as the index_article task would."""
    if key:
        title, language, body = ARTICLES[key]
        public_url = public_url or f"https://shop.example/help/{key}"
    with transaction.atomic():
        article = Article.objects.create(
            title=title, body=body, language=language, public_url=public_url, tags=tags,
            status=Article.Status.PUBLISHED if published else Article.Status.DRAFT,
        )
        knowledge_version_bump()
    if index:
        article_index(article_id=article.pk)
        article.refresh_from_db()
    return article


def knowledge_base_create() -> dict[str, Article]:
    return {key: article_create(key) for key in ARTICLES}


def faq_create(question: str, answer: str, *, alternatives: tuple[str, ...] = (), language: str = "en",
               published: bool = True, index: bool = True) -> FAQ:
    with transaction.atomic():
        faq = FAQ.objects.create(question=question, answer=answer, alternatives="\n".join(alternatives),
                                 language=language, published=published)
        knowledge_version_bump()
    if index:
        faq_index(faq_id=faq.pk)
        faq.refresh_from_db()
    return faq


def pdf_bomb(unpacked_bytes: int = 80_000_000) -> bytes:
    """A 78 KB PDF whose one page's content stream inflates to `unpacked_bytes` of spaces (pypdf stops at 75 MB).

    The page has a font, so text extraction really decodes the stream.
    """
    packer = zlib.compressobj(9)
    block = b" " * 1_000_000
    stream = b"".join(packer.compress(block) for _ in range(unpacked_bytes // len(block))) + packer.flush()
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 "
        + font + b" >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def demo_knowledge_base_create() -> None:
    """The demo shop's knowledge base, published and indexed synchronously (the fake's embeddings)."""
    demo_load()
    for article_id in Article.objects.values_list("pk", flat=True):
        article_index(article_id=article_id)
    for faq_id in FAQ.objects.values_list("pk", flat=True):
        faq_index(faq_id=faq_id)
