"""Moderation on the real stack: a customer's message checked before anything else (refused, handed off or
flagged, per category), a streamed reply stopped before a blocked term and replaced by a notice, the optional
model check, every hit recorded and counted, the lists imported."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from conversations import notices
from conversations.models import Conversation, Message, ModerationHit, ModerationTerm
from conversations.moderation.model import MODERATION_SCHEMA
from conversations.pipeline.reply import reply_generate
from conversations.selectors.messages import message_to_agent_dict
from conversations.services import messages
from conversations.services.identity import conversation_create
from helpdesk import privacy
from helpdesk.runtime import aio
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "deepseek-r1:7b"  # a model the fake serves


@pytest.fixture
def terms() -> dict[str, ModerationTerm]:
    """Both languages; the categories' default actions: politics refuse, fraud handoff, ads flag."""
    rows = {
        "regime": ("overthrow the regime", "politics", "blocked"),
        "法轮": ("法轮功", "politics", "blocked"),
        "scam": ("send a gift card", "fraud", "blocked"),
        "诈骗": ("刷单返利", "fraud", "blocked"),
        "casino": ("casino", "ads", "blocked"),
        "代购": ("代购", "other", "sensitive"),
    }
    return {
        key: ModerationTerm.objects.create(text=text, category=category, kind=kind)
        for key, (text, category, kind) in rows.items()
    }


def hits_counted(category: str, where: str, action: str) -> float:
    labels = {"category": category, "where": where, "action": action}
    return REGISTRY.get_sample_value("helpdesk_moderation_hits_total", labels) or 0.0


def post(conversation: Conversation, text: str) -> Message:
    message, _ = messages.message_post_customer(conversation=conversation, text=text, client_id=f"m-{text[:20]}")
    return message


# --- inbound ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language_notice"),
    [
        ("How do I OVERTHROW  the   regime?", "en"),
        ("你们支持法輪 功吗", "zh-hans"),  # traditional, and a space inserted
    ],
)
def test_a_refused_message_is_stored_flagged_and_answered_by_a_polite_notice_only(
    terms, fake_ollama, text: str, language_notice: str
) -> None:
    before = hits_counted("politics", "inbound", "refuse")
    conversation = conversation_factory()
    message = post(conversation, text)
    message.refresh_from_db()
    assert message.flagged == "politics" and message.intent == ""
    hit = ModerationHit.objects.get(message=message)
    assert (hit.category, hit.where, hit.action, hit.source) == ("politics", "inbound", "refuse", "list")
    assert hit.term_id in {terms["regime"].pk, terms["法轮"].pk}
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content == notices.notice_in(language_notice, notices.MODERATION_REFUSED_NOTICE)
    assert not conversation.messages.filter(role=Message.Role.BOT).exists(), "no reply was asked for"
    assert fake_ollama.chat_requests() == []
    assert hits_counted("politics", "inbound", "refuse") == before + 1


def test_a_category_set_to_handoff_hands_the_conversation_to_a_person(terms) -> None:
    before = hits_counted("fraud", "inbound", "handoff")
    conversation = conversation_factory()
    message = post(conversation, "有人让我做刷 单 返 利，靠谱吗")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == "moderation"
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content == notices.notice_in("zh-hans", notices.MODERATION_HANDOFF_NOTICE)
    assert ModerationHit.objects.get(message=message).action == "handoff"
    assert hits_counted("fraud", "inbound", "handoff") == before + 1


def test_the_action_is_a_setting_per_category(terms, settings) -> None:
    settings.MODERATION_ACTIONS = {"fraud": "refuse", "politics": "handoff"}
    conversation = conversation_factory()
    post(conversation, "Should I send a gift-card to the caller?")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT, "fraud now refuses"
    post(conversation, "how to overthrow the regime")
    conversation.refresh_from_db()
    assert conversation.handoff_reason == "moderation"


def test_a_flagged_message_is_answered_as_usual_and_marked_for_agents(terms, fake_ollama) -> None:
    # One for the reply the service queues (generated at once in embedded mode), one for this test's.
    fake_ollama.script(Reply(content="We sell no such thing."), Reply(content="We sell no such thing."))
    checked = post(conversation_factory(), "Do you run a CASINO or 代 购?")
    checked.refresh_from_db()
    assert checked.flagged == "ads,other"
    assert sorted(ModerationHit.objects.filter(message=checked).values_list("action", flat=True)) == ["flag", "flag"]
    assert message_to_agent_dict(checked)["flagged"] == ["ads", "other"]
    assert not checked.conversation.messages.filter(role=Message.Role.SYSTEM).exists()
    # Answered as any message is (generated here, in-process, to read the result at once).
    question = customer_message_factory(conversation_factory(), checked.content, flagged=checked.flagged)
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.status == Message.Status.COMPLETE and reply.content == "We sell no such thing."


def test_with_a_person_on_the_conversation_a_blocked_message_is_only_flagged(terms) -> None:
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    message = post(conversation, "overthrow the regime")
    assert ModerationHit.objects.get(message=message).action == "flag"
    assert not conversation.messages.filter(role=Message.Role.SYSTEM).exists()


def test_ordinary_words_and_disabled_terms_pass(terms) -> None:
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    post(conversation, "The casinos near your shop, regimes of care, 购物, 刷单")  # other words
    ModerationTerm.objects.filter(pk=terms["regime"].pk).update(enabled=False, updated_at=timezone.now())
    post(conversation, "overthrow the regime")
    assert not ModerationHit.objects.exists()


def test_a_change_to_the_lists_is_seen_by_the_next_message(terms) -> None:
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    assert not post(conversation, "buy followers here").moderation_hits.exists()
    ModerationTerm.objects.create(text="buy followers", category="ads")
    assert post(conversation, "buy  followers now").moderation_hits.exists()
    term = ModerationTerm.objects.get(text="buy followers")
    term.enabled = False
    term.save()
    assert not post(conversation, "really, buy followers").moderation_hits.exists()
    term.delete()
    ModerationTerm.objects.create(text="刷好评", category="ads")
    assert post(conversation, "帮我刷好评").moderation_hits.exists()


def test_moderation_can_be_turned_off(terms, settings) -> None:
    settings.MODERATION_ENABLED = False
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    assert not post(conversation, "overthrow the regime").moderation_hits.exists()


async def test_through_the_socket_the_customer_gets_the_echo_and_the_notice_never_a_reply(
    chat, terms, fake_ollama, reply_runner
) -> None:
    fake_ollama.script(Reply(content="this must not be generated"))
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "法 轮 功好不好", "client_id": "w-1"})
    echo = await client.until("message")
    notice = await client.until("message")
    await client.close()
    assert echo["message"]["role"] == "customer" and echo["message"]["content"] == "法 轮 功好不好"
    assert notice["message"]["role"] == "system"
    assert notice["message"]["content"] == notices.notice_in("zh-hans", notices.MODERATION_REFUSED_NOTICE)
    assert not [frame for frame in client.frames if frame["type"] in ("delta", "done")]
    assert "flagged" not in str(client.frames), "the customer is not told what the agents see"
    assert await aio.db_call(lambda: ModerationHit.objects.filter(where="inbound").count()) == 1


# --- outbound ----------------------------------------------------------------------------------------------


def test_a_reply_with_a_blocked_term_is_stopped_and_replaced_by_the_notice(terms, fake_ollama) -> None:
    before = hits_counted("fraud", "outbound", "handoff")
    fake_ollama.script(Reply(chunks=("Easy money: just ", "send a gi", "ft card", " to this number.")))
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "How can I earn money fast?")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.content == notices.notice_in("en", notices.MODERATION_WITHHELD_NOTICE)
    assert "gift" not in reply.content and reply.flagged == "fraud"
    hit = ModerationHit.objects.get(message=reply)
    assert (hit.category, hit.where, hit.action, hit.term_id) == ("fraud", "outbound", "handoff", terms["scam"].pk)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == "moderation"
    assert hits_counted("fraud", "outbound", "handoff") == before + 1
    assert reply.retrieval.get("cache_refused") == "replaced by moderation"


def test_a_refused_reply_in_chinese_keeps_the_conversation_with_the_bot(terms, fake_ollama) -> None:
    fake_ollama.script(Reply(chunks=("您好，关于法", "輪", "功的问题……")))
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "你们怎么看这个新闻？")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.content == notices.notice_in("zh-hans", notices.MODERATION_WITHHELD_NOTICE)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT
    assert ModerationHit.objects.get(message=reply).action == "refuse"


async def test_through_the_socket_no_frame_ever_carries_the_blocked_term(
    chat, terms, fake_ollama, reply_runner
) -> None:
    # The term in pieces across the stream, with the text before it long enough to be flushed first.
    fake_ollama.script(
        Reply(
            chunks=("您好！", "我们的活动很多，", "比如刷", "单", "返", "利，", "每天都能赚钱。", "欢迎参加。"),
            per_token=0.02,
        )
    )
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "有什么赚钱的活动吗？", "client_id": "w-2"})
    done = await client.until("done")
    await client.close()
    shown = "".join(frame["text"] for frame in client.frames if frame["type"] == "delta")
    assert shown.startswith("您好！") and "刷" not in shown, shown
    everything = json.dumps(client.frames, ensure_ascii=False)
    assert "刷单" not in everything and "返利" not in everything and "刷" not in everything
    notice = notices.notice_in("zh-hans", notices.MODERATION_WITHHELD_NOTICE)
    assert done["message"]["content"] == notice
    reply = await aio.db_call(lambda: Message.objects.get(pk=done["message"]["id"]))
    assert reply.content == notice and reply.flagged == "fraud"
    assert await aio.db_call(lambda: list(ModerationHit.objects.values_list("where", "action"))) == [
        ("outbound", "handoff")
    ]


def test_a_sensitive_term_in_a_reply_goes_through_flagged(terms, fake_ollama) -> None:
    fake_ollama.script(Reply(content="我们不提供代购服务。"))
    question = customer_message_factory(conversation_factory(), "可以帮我买吗")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.content == "我们不提供代购服务。" and reply.flagged == "other"
    assert ModerationHit.objects.get(message=reply).action == "flag"


# --- the model check ---------------------------------------------------------------------------------------


@pytest.fixture
def moderation_model(settings):
    settings.MODERATION_MODEL = MODEL
    settings.MODERATION_TIMEOUT_S = 5
    return settings


def test_the_model_check_refuses_what_no_list_has(fake_ollama, moderation_model) -> None:
    fake_ollama.script(Reply(content=json.dumps({"category": "abuse"})))
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "you useless pile of bolts, I hope your servers burn")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.status == Message.Status.CANCELLED and reply.content == ""
    (asked,) = fake_ollama.chat_requests()
    assert asked.body["format"] == MODERATION_SCHEMA and asked.body["model"] == MODEL
    hit = ModerationHit.objects.get(message=question)
    assert (hit.source, hit.category, hit.action, hit.term_id) == ("model", "abuse", "refuse", None)
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content == notices.notice_in("en", notices.MODERATION_REFUSED_NOTICE)


def test_the_model_saying_none_lets_the_message_through(fake_ollama, moderation_model) -> None:
    fake_ollama.script(Reply(content=json.dumps({"category": "none"})), Reply(content="它明天发货。"))
    question = customer_message_factory(conversation_factory(), "我的包裹什么时候发货？")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.content == "它明天发货。" and not ModerationHit.objects.exists()


@pytest.mark.parametrize(
    "late_or_broken",
    [
        Reply(content=json.dumps({"category": "abuse"}), ttft=2.0),  # too late
        Reply(status=500, error="model crashed"),
        Reply(content="not json"),
    ],
)
def test_on_a_timeout_or_an_error_the_message_goes_through_and_is_logged(
    fake_ollama, moderation_model, late_or_broken, caplog
) -> None:
    moderation_model.MODERATION_TIMEOUT_S = 0.5
    fake_ollama.script(late_or_broken, Reply(content="It ships tomorrow."))
    question = customer_message_factory(conversation_factory(), "when does it ship?")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.content == "It ships tomorrow." and not ModerationHit.objects.exists()
    assert "moderation model: no answer" in caplog.text


# --- records, import, settings ------------------------------------------------------------------------------


def test_hits_are_in_the_personal_data_registry() -> None:
    holder = next(h for h in privacy.holders() if h.model is ModerationHit)
    assert holder.conversation_lookup == "message__conversation_id"


def test_the_import_command_reads_csv_and_txt_in_both_languages(tmp_path: Path) -> None:
    csv_file = tmp_path / "terms.csv"
    csv_file.write_text(
        "text,category,kind,languages,pattern\n"
        "刷单,fraud,blocked,zh-hans,\n"
        "idiot,abuse,sensitive,en,\n"
        '"qq\\s*\\d{6,}",ads,blocked,,yes\n',
        encoding="utf-8",
    )
    call_command("moderation_import", str(csv_file))
    txt = tmp_path / "terms.txt"
    txt.write_text("# abuse\n蠢货\nmoron\n\n刷单\n", encoding="utf-8")
    call_command("moderation_import", str(txt), "--category", "abuse")
    rows = set(ModerationTerm.objects.values_list("text", "category", "kind", "languages", "is_pattern"))
    assert rows == {
        ("刷单", "fraud", "blocked", "zh-hans", False),
        ("idiot", "abuse", "sensitive", "en", False),
        ("qq\\s*\\d{6,}", "ads", "blocked", "", True),
        ("蠢货", "abuse", "blocked", "", False),
        ("moron", "abuse", "blocked", "", False),
        ("刷单", "abuse", "blocked", "", False),
    }


@pytest.mark.parametrize(
    "bad_row", ["...,abuse,blocked,,", "x,nonsense,blocked,,", "(unclosed,ads,blocked,,yes", "x,abuse,blocked,klingon,"]
)
def test_a_bad_row_imports_nothing_and_says_which(tmp_path: Path, bad_row: str) -> None:
    path = tmp_path / "terms.csv"
    path.write_text(f"text,category,kind,languages,pattern\nfine,abuse,blocked,,\n{bad_row}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="row 2"):
        call_command("moderation_import", str(path))
    assert not ModerationTerm.objects.exists()


def test_an_unknown_action_stops_the_settings() -> None:
    env = {"MODERATION_ACTIONS": "politics=explode", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import helpdesk.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0 and "politics=explode" in result.stderr


def test_a_misspelt_category_in_the_actions_fails_the_system_check(settings) -> None:
    settings.MODERATION_ACTIONS = {"selfharm": "handoff", "ads": "flag"}
    with pytest.raises(SystemCheckError, match="unknown categories: selfharm"):
        call_command("check")
    settings.MODERATION_ACTIONS = {"self_harm": "handoff"}
    call_command("check")


def test_an_answer_cached_before_its_term_was_listed_is_not_served(fake_ollama) -> None:
    knowledge_base_create()
    cached = "We accept Alipay, WeChat Pay and cards [1]."
    fake_ollama.script(
        Reply(content=cached),
        Reply(content=cached),
        Reply(content="Cards only [1]."),
        Reply(content="Cards only [1]."),  # for the reply the service queues at the end (embedded: in-process)
    )
    for question in ("Do you take Mastercard?", "Which payment methods do you accept?"):
        first = reply_generate(customer_message_id=customer_message_factory(conversation_factory(), question).pk)
        assert first.answer_source == "llm" and "cache_refused" not in first.retrieval
    ModerationTerm.objects.create(text="WeChat Pay", category="other")  # listed since: blocked (refuse)
    question = customer_message_factory(conversation_factory(), "Do you take Mastercard?")
    second = reply_generate(customer_message_id=question.pk)
    assert second.answer_source == "llm" and second.content == "Cards only."
    conversation = conversation_factory()
    post(conversation, "Which payment methods do you accept?")  # the service's direct answer skips it too
    assert not any("WeChat" in m.content for m in conversation.messages.filter(role=Message.Role.BOT))


def test_admin_adds_a_term_checks_it_and_a_bulk_disable_is_seen_at_once(staff_client) -> None:
    url = reverse("admin:conversations_moderationterm_add")
    form = {"text": "ｓｃａｍ ｌｉｎｋ", "kind": "blocked", "category": "fraud", "languages": "en", "enabled": "on"}
    assert staff_client.post(url, form).status_code == 302
    for bad, field_error in (
        ({"text": "…!!"}, "at least one letter or digit"),
        ({"text": "(", "is_pattern": "on"}, "Not a valid regular expression"),
        ({"languages": "fr"}, "Unknown language"),
    ):
        page = staff_client.post(url, {**form, "text": "x", **bad}).content.decode()
        assert field_error in page
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    assert post(conversation, "click this scam-link").moderation_hits.exists()
    changelist = reverse("admin:conversations_moderationterm_changelist")
    term = ModerationTerm.objects.get()
    staff_client.post(changelist, {"action": "disable", "_selected_action": [term.pk]})
    assert not ModerationTerm.objects.get().enabled
    assert not post(conversation, "click this scam link again").moderation_hits.exists()
    assert staff_client.get(reverse("admin:conversations_moderationhit_changelist")).status_code == 200


def test_the_lists_version_is_read_once_per_window_and_this_process_s_edits_are_seen_at_once(
    staff_client, settings, monkeypatch
) -> None:
    """A message does not query the lists' version while MODERATION_LISTS_RECHECK_S runs (it did for every message);
    an edit in this process (the admin's form and bulk actions, a save, a delete) is seen by the very next message,
    one made elsewhere (a bulk update, as another process's, fires no signal here) once the window is over."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conversations.moderation import lists

    settings.MODERATION_LISTS_RECHECK_S = 60.0
    lists.lists_changed()
    conversation = conversation_factory(status=Conversation.Status.HUMAN)

    def hit(text: str) -> bool:
        with CaptureQueriesContext(connection) as queries:
            found = post(conversation, text).moderation_hits.exists()
        hit.version_read = any('FROM "conversations_moderationterm"' in q["sql"] for q in queries.captured_queries)
        return found

    assert not hit("buy followers here") and hit.version_read
    assert not hit("buy followers there") and not hit.version_read  # within the window: no query
    term = ModerationTerm.objects.create(text="buy followers", category="ads")
    assert hit("buy  followers now") and hit.version_read  # seen at once
    changelist = reverse("admin:conversations_moderationterm_changelist")
    staff_client.post(changelist, {"action": "disable", "_selected_action": [term.pk]})
    assert not hit("buy followers, disabled")
    staff_client.post(changelist, {"action": "enable", "_selected_action": [term.pk]})
    assert hit("buy followers, enabled")
    term.delete()
    assert not hit("buy followers, deleted")

    # Another process's change: not seen while the window runs, seen once it is over.
    other = ModerationTerm.objects.create(text="刷好评", category="ads")
    assert hit("帮我刷好评")
    ModerationTerm.objects.filter(pk=other.pk).update(enabled=False, updated_at=timezone.now())
    assert hit("再帮我刷好评") and not hit.version_read
    later = time.monotonic() + 61
    monkeypatch.setattr(lists, "time", SimpleNamespace(monotonic=lambda: later))  # the window is over
    assert not hit("又帮我刷好评") and hit.version_read
