"""The console pages (the console, the profile comparison, the dashboard): agents only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from agents.tests.console import agent_create

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_console_sign_in(client) -> None:
    response = client.get("/console/")
    assert response.status_code == 302 and response.url == "/console/login/?next=/console/"
    assert client.get("/console/login/").status_code == 200


def test_signed_in_customers_accounts_are_refused(client) -> None:
    client.force_login(get_user_model().objects.create_user("shopper"))
    assert client.get("/console/").status_code == 403


@pytest.mark.parametrize("url", ["/console/", "/console/compare/", "/console/dashboard/"])
def test_staff_who_are_not_agents_are_refused(client, url) -> None:
    client.force_login(agent_create("admin-clerk", staff=True, in_group=False))
    assert client.get(url).status_code == 403


def test_an_agent_taken_out_of_the_group_is_refused_at_the_next_request(client) -> None:
    mei = agent_create("mei")
    client.force_login(mei)
    assert client.get("/console/").status_code == 200
    mei.groups.clear()
    assert client.get("/console/").status_code == 403


def test_an_agent_who_is_not_staff_can_sign_in_and_open_the_console(client) -> None:
    agent_create("mei")
    response = client.post("/console/login/", {"username": "mei", "password": "pw", "next": "/console/"})
    assert response.status_code == 302 and response.url == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200 and b"console.js" in page.content


def test_demo_agent_is_created_once_with_canned_responses(capsys, settings) -> None:
    from django.core.management import call_command

    from agents.models import CannedResponse

    settings.DEBUG = True  # development only: nothing is created in production
    call_command("ensure_demo_agent")
    call_command("ensure_demo_agent")
    out = capsys.readouterr().out
    assert out.count("Demo agent account") == 1 and "user: agent" in out
    assert CannedResponse.objects.filter(shortcut="nihao").exists()


# --- the report pages ---------------------------------------------------------------------------------

REPORT_PAGES = ["/console/compare/", "/console/dashboard/"]


@pytest.mark.parametrize("url", REPORT_PAGES)
def test_report_pages_send_anonymous_visitors_to_the_console_sign_in(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response.url == f"/console/login/?next={url}"


@pytest.mark.parametrize("url", REPORT_PAGES)
def test_report_pages_refuse_signed_in_non_agents(client, url) -> None:
    client.force_login(get_user_model().objects.create_user("shopper"))
    assert client.get(url).status_code == 403


def test_the_console_header_links_to_both_report_pages(client) -> None:
    client.force_login(agent_create("mei"))
    page = client.get("/console/").content.decode()
    assert 'href="/console/compare/"' in page and 'href="/console/dashboard/"' in page


def test_the_console_offers_admin_to_staff_only(client) -> None:
    """An agent who is not staff would only meet the admin's sign-in page, which refuses them."""
    client.force_login(agent_create("sam"))
    assert 'href="/admin/"' not in client.get("/console/").content.decode()
    client.force_login(agent_create("cora", staff=True))
    assert '<a href="/admin/" class="hc-link" data-i18n="admin">Admin</a>' in client.get("/console/").content.decode()


def test_the_console_header_links_to_every_page_the_report_pages_do(client) -> None:
    """An agent finds every console page from the console itself, not only from another report page."""
    import re

    client.force_login(agent_create("mei"))
    for language in ("en", "zh-hans"):
        report = client.get(f"/console/dashboard/?lang={language}").content.decode()
        nav = report[report.index('class="hc-report-nav"'):report.index("</nav>")]
        pages = re.findall(r'href="(/console/[a-z]+/)\?lang=', nav)
        assert len(pages) >= 6, nav
        console = client.get("/console/").content.decode()
        assert [page for page in pages if f'data-lang-href="{page}"' not in console] == []


@pytest.mark.parametrize(("accept", "word"), [("en-US,en", ">Console</a>"), ("zh-CN,zh", ">工作台</a>")])
def test_the_admin_links_back_to_the_console_for_agents_only(client, accept, word) -> None:
    """A curator sent to admin from the console ("Write an article", "FAQ suggestions") finds the way back; staff
    who may not use the console are not offered it."""
    from django.contrib.auth.models import Permission

    curator = agent_create("li", staff=True)
    curator.user_permissions.add(Permission.objects.get(codename="add_article"))
    client.force_login(curator)
    for url in ("/admin/", "/admin/knowledge/article/add/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        assert f'<a href="/console/" id="admin-console-link">{word.removeprefix(">")}' in page
    client.force_login(agent_create("admin-clerk", staff=True, in_group=False))
    assert 'id="admin-console-link"' not in client.get("/admin/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()


def _recent_figures() -> tuple[Any, Any]:
    """Four conversations of the default profile in the last hour, one handed off, four measured replies with
    TTFT 100..400 ms and 10 tokens/s; one conversation of a 10 % canary; two thumbs up and one down."""
    from django.utils import timezone

    from conversations.models import Feedback
    from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
    from helpdesk.tests.factories import canary_profile, default_profile

    default, canary = default_profile(), canary_profile("r1-14b", share=10.0, model="deepseek-r1:14b")
    first = conversation_factory(profile=default, handoff_at=timezone.now(), handoff_reason="low_confidence",
                                 csat_score=5)
    others = [conversation_factory(profile=default) for _ in range(3)]
    for conversation in [first, *others]:
        customer_message_factory(conversation)
    replies = [
        bot_message_factory(others[0], answer_source="llm", profile=default, ttft_ms=ttft, total_ms=ttft * 10,
                            reply_tokens=ttft // 10)
        for ttft in (100, 200, 300, 400)
    ]
    for message, rating in zip(replies, (1, 1, -1), strict=False):
        Feedback.objects.create(conversation=others[0], message=message, rating=rating)
    conversation_factory(profile=canary)
    return default, canary


def test_compare_page_shows_each_profiles_figures(client) -> None:
    default, _ = _recent_figures()
    client.force_login(agent_create("mei"))
    page = client.get("/console/compare/?period=24h").content.decode()
    for text in (default.model, "deepseek-r1:14b", "default · 90 %", "canary 10 %", "25 %", "1 of 4", "250 ms / 385 ms",
                 "2,500 ms / 3,850 ms", "10.0", "↑ 2 / ↓ 1", "67 % up", "5.0", "ratings: 1", 'aria-current="page"'):
        assert text in page, text
    assert "<script" not in page  # server-rendered: nothing to load in an air-gapped network


def test_the_console_page_carries_its_words_in_every_language(client) -> None:
    client.force_login(agent_create("mei"))
    page = client.get("/console/").content.decode()
    catalogs = json.loads(page.split('<script id="hc-catalogs" type="application/json">', 1)[1].split("</script>")[0])
    assert set(catalogs) == {"en", "zh-hans"} and catalogs["en"] == {}
    assert catalogs["zh-hans"]["console\x04Take over"] == "接管"
    assert catalogs["zh-hans"]["console\x04Load more"] == "加载更多"


def test_the_sign_in_page_is_in_every_language(client) -> None:
    page = client.get("/console/login/").content.decode()
    assert "Helpdesk console · 客服工作台" in page and "User name · 用户名" in page and "Sign in · 登录" in page


def test_compare_page_with_no_data_says_so(client) -> None:
    client.force_login(agent_create("mei"))
    response = client.get("/console/compare/?period=7d")
    page = response.content.decode()
    assert response.status_code == 200
    assert "No conversations or replies in this period." in page and "no data" in page


def test_compare_page_in_chinese_by_switch_or_browser_language(client) -> None:
    client.force_login(agent_create("mei"))
    page = client.get("/console/compare/?lang=zh-hans").content.decode()
    assert '<html lang="zh-Hans">' in page and "模型配置对比" in page and "无数据" in page
    page = client.get("/console/compare/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert "模型配置对比" in page


def test_compare_page_reads_dates_and_reports_bad_ones(client) -> None:
    client.force_login(agent_create("mei"))
    assert "2026-01-01 to 2026-01-02" in client.get("/console/compare/?from=2026-01-01&to=2026-01-02").content.decode()
    page = client.get("/console/compare/?from=2026-01-05&to=2026-01-01").content.decode()
    assert 'role="alert"' in page and "Last 24 hours" in page


def test_dashboard_shows_the_figures_in_its_charts(client) -> None:
    _recent_figures()
    client.force_login(agent_create("mei"))
    page = client.get("/console/dashboard/?range=day").content.decode()
    assert page.count('<svg class="hc-chart-svg"') == 7 and page.count("<caption>") == 7
    # Summary: 5 conversations started (the canary's too), 4 customer messages, first token p50 250 ms,
    # reply time p50 2,500 ms, handed to a human 1 of 5 = 20 %, CSAT 5 from one rating.
    for text in ("<dd>5</dd>", "<dd>4</dd>", "<dd>250 ms</dd>", "<dd>2,500 ms</dd>", "<dd>20 %</dd>",
                 "<dd>5.0 (ratings: 1)</dd>"):
        assert text in page, text
    # The hidden tables and the points' tooltips carry the per-bucket values: p95 of 100..400 is 385 ms.
    assert "<td>385 ms</td>" in page and "p95" in page and "<title>p95, " in page
    assert "<script" not in page


def test_dashboard_with_no_data_draws_empty_charts(client) -> None:
    client.force_login(agent_create("mei"))
    for range_key in ("hour", "day", "week"):
        response = client.get(f"/console/dashboard/?range={range_key}")
        page = response.content.decode()
        assert response.status_code == 200
        assert page.count('class="hc-chart-empty"') == 7 and "No conversations or replies in this period." in page


def test_dashboard_in_chinese(client) -> None:
    client.force_login(agent_create("mei"))
    page = client.get("/console/dashboard/?range=week&lang=zh-hans").content.decode()
    assert "运营看板" in page and "每 6 小时" in page and 'href="?range=week&amp;lang=en"' in page


def test_dashboard_shows_each_ollama_node_as_ollama_status_does(client, fake_ollama, dead_ollama_url, settings) -> None:
    settings.OLLAMA_HOSTS = [fake_ollama.url, dead_ollama_url]
    fake_ollama.state.version = "0.12.9"
    client.force_login(agent_create("mei"))
    page = client.get("/console/dashboard/").content.decode()
    panel = page.split('id="hc-nodes-title"', 1)[1].split("</section>", 1)[0]
    up, down = panel.split(fake_ollama.url, 1)[1].split(dead_ollama_url, 1)
    assert "up, in rotation" in up and "0.12.9" in up and "deepseek-r1:7b: pulled" in up and " ms" in up
    assert ">down<" in down and "cannot connect" in down
    assert 'role="alert"' not in panel


def test_dashboard_warns_when_no_node_can_serve_the_chat_model(client, fake_ollama) -> None:
    fake_ollama.state.models = ["bge-m3"]
    client.force_login(agent_create("mei"))
    page = client.get("/console/dashboard/?lang=zh-hans").content.decode()
    assert "没有节点能提供 deepseek-r1:7b。" in page and "deepseek-r1:7b: 未下载" in page


def test_curators_see_how_many_faq_suggestions_wait_and_other_agents_do_not(client) -> None:
    from django.contrib.auth.models import Permission

    from conversations.models import Conversation, FAQSuggestion, Message

    for status in ("pending", "pending", "dismissed"):
        conversation = Conversation.objects.create(status=Conversation.Status.RESOLVED)
        answer = Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content="Yes.")
        FAQSuggestion.objects.create(question="Gift wrap?", answer="Yes.", language="en", status=status,
                                     conversation=conversation, source_message=answer)
    report_pages = ["/console/gaps/", "/console/articles/", "/console/agents/", "/console/dashboard/"]
    client.force_login(agent_create("mei"))
    for url in ["/console/", *report_pages]:
        assert b"hc-faq-suggestions" not in client.get(url).content
    curator = agent_create("li", staff=True)
    curator.user_permissions.add(Permission.objects.get(codename="view_faqsuggestion"))
    client.force_login(curator)
    page = client.get("/console/").content.decode()
    assert 'href="/admin/conversations/faqsuggestion/?status__exact=pending"' in page
    assert '<span class="hc-count">2</span>' in page
    # The report pages (the knowledge gaps above all, where a curator works) link to them too, in either language.
    for url in report_pages:
        for language, words in (("en", "FAQ suggestions"), ("zh-hans", "常见问题建议")):
            page = client.get(f"{url}?lang={language}").content.decode()
            assert ('<a href="/admin/conversations/faqsuggestion/?status__exact=pending" class="hc-link '
                    f'hc-faq-suggestions">{words} <span class="hc-count">2</span></a>') in page
