"""knowledge.selectors: what a reply asks of the knowledge base (FAQ, answer cache, sources)."""

from __future__ import annotations

import pytest

from knowledge import cache as answer_cache
from knowledge import selectors
from knowledge.retrieval.relevance import bears_on_question
from knowledge.retrieval.snapshot import knowledge_version
from knowledge.tests.factories import article_create, faq_create, knowledge_base_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_direct_answer_comes_from_an_exact_faq_or_the_cache_without_ollama(fake_ollama) -> None:
    faq_create("运费多少钱?", "订单满199元包邮，不满收取12元运费。", language="zh-hans")
    indexing_calls = len(fake_ollama.embed_requests())
    found = selectors.direct_answer_find(question="请问运费多少钱？", has_history=False, profile="p")
    assert found is not None and found.faq is not None and found.faq.how == "exact"
    assert selectors.direct_answer_find(question="Do you take Mastercard?", has_history=False, profile="p") is None
    answer_cache.answer_cache_put(
        question="Do you take Mastercard?", version=knowledge_version(), profile="p",
        answer=answer_cache.CachedAnswer(content="Yes.", sources=[], model_name="m", confidence=0.9),
    )
    cached = selectors.direct_answer_find(question="Do you take Mastercard?", has_history=False, profile="p")
    assert cached is not None and cached.cached is not None and cached.cached.content == "Yes."
    assert selectors.direct_answer_find(question="Do you take Mastercard?", has_history=False, profile="q") is None
    assert fake_ollama.chat_requests() == [] and len(fake_ollama.embed_requests()) == indexing_calls


def test_a_follow_up_is_looked_up_with_the_question_it_follows_in_one_embedding_call(fake_ollama) -> None:
    knowledge_base_create()
    before = len(fake_ollama.embed_requests())
    grounding = selectors.knowledge_lookup(
        question="And the refund?", previous_question="How do I return tea?", has_history=True, profile="p"
    )
    assert not grounding.standalone and grounding.query == "How do I return tea?\nAnd the refund?"
    assert [r.body["input"] for r in fake_ollama.embed_requests()[before:]] == [
        ["And the refund?", "How do I return tea?\nAnd the refund?"]
    ]
    assert grounding.result is not None and grounding.result.hits[0].title == "Returns and refunds"
    assert grounding.record()["standalone"] is False and grounding.faq is None and grounding.cached is None


@pytest.mark.parametrize(("previous", "question", "title"), [
    ("Do you take Visa?", "Mine got declined twice when I tried, what now?", "Payment methods"),
    ("Can I send back unopened tea?", "Thing is, I bought it three weeks ago. Still fine?", "Returns and refunds"),
    ("可以开专用发票吗", "大概要等几天才拿得到？", "发票开具"),
    ("无理由退货可以吗", "要是我自己出这笔钱呢", "退货与退款"),
])
def test_a_question_that_finds_nothing_alone_is_read_with_the_one_before(fake_ollama, previous, question,
                                                                         title) -> None:
    """Customers lean on the earlier turn without the words of a follow-up ("and…", "那…"): a question the
    knowledge base has nothing for on its own is looked up with the one before, and not cached as standalone."""
    knowledge_base_create()
    alone = selectors.knowledge_lookup(question=question, previous_question="", has_history=False, profile="p")
    assert alone.result is not None and not any(bears_on_question(hit) for hit in alone.result.hits)
    grounding = selectors.knowledge_lookup(question=question, previous_question=previous, has_history=True,
                                           profile="p")
    assert not grounding.standalone and grounding.query == f"{previous}\n{question}"
    relevant = [hit for hit in grounding.result.hits if bears_on_question(hit)]
    assert relevant and relevant[0].title == title


def test_counting_from_when_is_asking_and_leans_on_the_question_before(fake_ollama) -> None:
    """"从哪天开始算啊" after the warranty: "算" (counted, reckoned) is a word of asking, as "多少" is, so the question
    has no subject of its own; alone, its "算" found how shipping fees are counted."""
    article_create(title="水壶保修", language="zh-hans", body="## 保修\n\n水壶保修两年，从签收之日起计算。")
    article_create(title="运费", language="zh-hans", body="## 运费怎么算\n\n运费按重量计算，满 99 元包邮。")
    grounding = selectors.knowledge_lookup(question="从哪天开始算啊", previous_question="水壶有保修吗",
                                           has_history=True, profile="p")
    assert not grounding.standalone and grounding.query == "水壶有保修吗\n从哪天开始算啊"
    relevant = sorted((hit for hit in grounding.result.hits if bears_on_question(hit)), key=lambda hit: -hit.coverage)
    assert relevant and relevant[0].title == "水壶保修"
    shipping = selectors.knowledge_lookup(question="运费怎么算", previous_question="", has_history=False, profile="p")
    assert [hit.title for hit in shipping.result.hits if bears_on_question(hit)][:1] == ["运费"]


@pytest.mark.parametrize("question", [
    "How long does the refund take?",  # finds its own answer: read alone
    "btw, which film should I watch tonight?",  # says it is a new subject
    "顺便问下，附近有什么好吃的？",
    "Can you recommend a restaurant near your warehouse?",  # a head of its own: what it asks about
])
def test_a_question_with_a_subject_of_its_own_is_not_read_with_the_one_before(fake_ollama, question) -> None:
    knowledge_base_create()
    grounding = selectors.knowledge_lookup(question=question, previous_question="Do you take Visa?",
                                           has_history=True, profile="p")
    assert grounding.standalone and grounding.query == question


def test_the_retrieval_preview_marks_what_the_reply_pipeline_would_give(fake_ollama, settings) -> None:
    """Its "in the prompt" is the pipeline's own rule (conversations.scope gives sources by bears_on_question): a
    section that covers the question only with the rest of its article (Visa here, cash there) goes in."""

    settings.COVERAGE_MIN = 0.75
    article_create(title="Payment", body="## Cards\n\nWe take Visa and Mastercard.\n\n"
                   "## On delivery\n\nCash on delivery is not offered; pay online before the courier comes.")
    hits = selectors.retrieval_preview(question="can I pay cash or Visa")["hits"]
    assert any(hit.in_prompt and hit.coverage < settings.COVERAGE_MIN for hit in hits)
    assert [hit.in_prompt for hit in hits] == [bears_on_question(hit) for hit in hits]


def test_within_one_piece_of_work_the_version_is_read_once(django_assert_num_queries) -> None:
    from django.db import transaction

    from knowledge.services.version import knowledge_version_bump

    with transaction.atomic():
        knowledge_version_bump()
    with selectors.knowledge_version_once():
        first = knowledge_version()
        with transaction.atomic():
            knowledge_version_bump()
        with django_assert_num_queries(0):
            assert knowledge_version() == first == selectors.knowledge_version_current(), "the same version throughout"
    assert knowledge_version() > first, "outside it, every read is the database's"


def test_a_version_carried_by_another_query_is_the_one_read_and_spares_the_read(django_assert_num_queries) -> None:
    from django.db import transaction

    from knowledge.models import Article, KnowledgeState
    from knowledge.services.version import knowledge_version_bump

    def carried() -> int:  # a read of rows of another table, the version along
        return Article.objects.annotate(kb_version=selectors.knowledge_version_column()).values_list(
            "kb_version", flat=True).get(pk=article.pk)

    article = article_create(title="Returns", body="Within 30 days. 三十天内可退货。")
    KnowledgeState.objects.all().delete()
    assert carried() == knowledge_version() == 0, "no state row: version 0, as a read finds it"
    with transaction.atomic():
        knowledge_version_bump()
    version = carried()
    assert version == knowledge_version() > 0
    with selectors.knowledge_version_known(version):
        with transaction.atomic():
            knowledge_version_bump()
        with django_assert_num_queries(0):
            assert knowledge_version() == version, "the version carried, for the whole piece of work"
    assert knowledge_version() > version


@pytest.mark.parametrize(("previous", "answer", "question", "continued"), [
    ("收到的盖碗碎了", "很抱歉！请在签收后48小时内联系我们，我们会免费补发。",
     "我上周就收到了，今天才拆开发现，已经超过48小时了，还能处理吗", "茶具保修"),
    ("My teapot arrived cracked", "Sorry! Report it within 48 hours of delivery and we send a free replacement.",
     "I only opened the box today, it's been more than 48 hours since it came. Can you still do something?",
     "Teaware care"),
])
def test_a_question_repeating_a_figure_of_the_last_answer_goes_on_about_it(fake_ollama, previous, answer, question,
                                                                         continued) -> None:
    """A story of its own whose words another article has (拆开, opened: the returns article's), asked with the
    figure the last answer gave: a follow-up of that answer, whose article's sources continue the subject."""
    article_create(title="茶具保修", language="zh-hans", tags="保修",
                   body="## 运输破损\n\n茶具运输破损，请在签收后48小时内联系我们，免费补发。")
    article_create(title="退货须知", language="zh-hans", tags="退货",
                   body="## 可退商品\n\n未拆封的茶叶收到后30天内可以退货，拆开过的茶叶不能退。")
    article_create(title="Teaware care", tags="teaware",
                   body="## Broken in transit\n\nTeaware that arrives broken: report it within 48 hours of delivery.")
    article_create(title="Returns", tags="returns",
                   body="## What can be returned\n\nUnopened tea within 30 days. Opened boxes of tea cannot be "
                        "returned.")
    grounding = selectors.knowledge_lookup(question=question, previous_question=previous, has_history=True,
                                           profile="p", previous_answer=answer, limit=10)
    assert not grounding.standalone
    assert grounding.result is not None
    assert {hit.title for hit in grounding.result.hits if hit.continues_subject} == {continued}
