"""The console's inbox query: waiting customers first, the agent's own next, and every page reachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from conversations.models import Conversation
from conversations.selectors import inbox as inbox_selectors

pytestmark = pytest.mark.django_db

Status = Conversation.Status


def conversations_bulk(count: int, *, status: str = Status.BOT, start_minutes_ago: float = 0, **fields: object
                       ) -> list[Conversation]:
    """`count` conversations in one INSERT, the newest `start_minutes_ago` minutes old, one second apart."""
    now = timezone.now()
    rows = []
    for n in range(count):
        at = now - timedelta(minutes=start_minutes_ago, seconds=n)
        rows.append(Conversation(status=status, last_message_at=at,
                                 handoff_at=at if status == Status.WAITING_HUMAN else None, **fields))
    return Conversation.objects.bulk_create(rows)


def test_waiting_customers_come_first_even_behind_thousands_of_bot_conversations() -> None:
    # The customers asked for a person an hour or more ago; since then the bot has had 3,000 newer chats.
    waiting = conversations_bulk(42, status=Status.WAITING_HUMAN, start_minutes_ago=60)
    conversations_bulk(3000)
    items = inbox_selectors.inbox()
    oldest_first = sorted(waiting, key=lambda c: c.handoff_at)
    assert [item["id"] for item in items[:42]] == [c.pk for c in oldest_first]
    assert all(item["status"] == "bot" for item in items[42:])


def test_the_agents_own_conversations_come_before_colleagues_and_the_bots() -> None:
    users = get_user_model().objects
    ann, bob = users.create_user("ann"), users.create_user("bob")
    [bot] = conversations_bulk(1)  # the most recent of all
    [anns] = conversations_bulk(1, status=Status.HUMAN, start_minutes_ago=1, agent=ann)
    [bobs] = conversations_bulk(1, status=Status.HUMAN, start_minutes_ago=2, agent=bob)
    [waiting] = conversations_bulk(1, status=Status.WAITING_HUMAN, start_minutes_ago=3)
    assert [i["id"] for i in inbox_selectors.inbox(agent_id=bob.pk)] == [waiting.pk, bobs.pk, anns.pk, bot.pk]
    assert [i["id"] for i in inbox_selectors.inbox(agent_id=ann.pk)] == [waiting.pk, anns.pk, bobs.pk, bot.pk]


def test_load_more_reaches_every_conversation_once_in_order(settings) -> None:
    settings.INBOX_PAGE_SIZE = 7
    waiting = conversations_bulk(9, status=Status.WAITING_HUMAN, start_minutes_ago=30)
    human = conversations_bulk(4, status=Status.HUMAN, start_minutes_ago=10)
    same_time = timezone.now() - timedelta(minutes=5)  # ties are broken by id, so none is skipped
    Conversation.objects.bulk_create([Conversation(status=Status.BOT, last_message_at=same_time) for _ in range(12)])
    conversations_bulk(3, status=Status.RESOLVED)
    seen, cursor, pages = [], "", 0
    while True:
        page = inbox_selectors.inbox_page(cursor=cursor)
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["next"] is None:
            break
        cursor = page["next"]
    bots = list(Conversation.objects.filter(status=Status.BOT).order_by("-id").values_list("pk", flat=True))
    expected = [c.pk for c in sorted(waiting, key=lambda c: c.handoff_at)] + [c.pk for c in human] + bots
    assert seen == expected and pages == 4


def test_the_resolved_filter_pages_too(settings) -> None:
    settings.INBOX_PAGE_SIZE = 2
    resolved = conversations_bulk(3, status=Status.RESOLVED)
    first = inbox_selectors.inbox_page(status="resolved")
    second = inbox_selectors.inbox_page(status="resolved", cursor=first["next"])
    assert [i["id"] for i in first["items"] + second["items"]] == [c.pk for c in resolved]
    assert second["next"] is None


@pytest.mark.parametrize("cursor", ["nonsense", "0|x|y|1", "0|2026-01-01T00:00:00|2026-01-01T00:00:00|1"])
def test_a_cursor_the_server_did_not_make_is_refused(cursor) -> None:
    with pytest.raises(inbox_selectors.BadCursor):
        inbox_selectors.inbox_page(cursor=cursor)


def test_each_line_carries_its_latest_customer_visible_message(django_assert_max_num_queries) -> None:
    from conversations.tests.factories import bot_message_factory, customer_message_factory

    conversations = conversations_bulk(20)
    for conversation in conversations:
        customer_message_factory(conversation, f"question {conversation.pk}")
        bot_message_factory(conversation, f"answer {conversation.pk}")
    with django_assert_max_num_queries(4):  # not one query per line
        items = inbox_selectors.inbox()
    assert all(item["last_message"]["excerpt"] == f"answer {item['id']}" for item in items)


@pytest.mark.parametrize(("status", "messages", "excerpt"), [
    # Waiting for a person: the customer's question, not the bot's handoff text nor the notice after it.
    (Status.WAITING_HUMAN, [("customer", "Can I join your loyalty club?"),
                            ("bot", "I can't answer that from what I know here, so I'm passing you to a colleague."),
                            ("system", "A colleague will join this conversation shortly.")],
     "Can I join your loyalty club?"),
    (Status.WAITING_HUMAN, [("customer", "发票抬头写错了，能重开吗"),
                            ("bot", "这个问题我这里无法回答，已为您转接客服同事，请稍候。"),
                            ("customer", "麻烦快一点"), ("system", "客服同事马上就来，您可以继续留言。")],
     "麻烦快一点"),
    # With an agent: the latest thing said, the "joined" notice passed over.
    (Status.HUMAN, [("customer", "My parcel is damaged"), ("system", "Mei joined the conversation.")],
     "My parcel is damaged"),
    (Status.HUMAN, [("customer", "快递还没到"), ("system", "客服 Mei 已加入对话。"), ("agent", "我帮您查一下物流。")],
     "我帮您查一下物流。"),
    # With the bot: its latest answer, as before.
    (Status.BOT, [("customer", "How much is shipping?"), ("bot", "Free over ¥199.")], "Free over ¥199."),
])
def test_a_line_shows_what_the_customer_needs_not_a_system_notice(status, messages, excerpt) -> None:
    from conversations.models import Message

    conversation = Conversation.objects.create(status=status, handoff_at=timezone.now())
    for role, text in messages:
        Message.objects.create(conversation=conversation, role=role, content=text,
                               client_id=f"c-{text}" if role == "customer" else None)
    [line] = inbox_selectors.inbox()
    assert line["last_message"]["excerpt"] == excerpt
    # The line pushed to consoles when a notice is posted says the same.
    notice = Message.objects.filter(conversation=conversation).order_by("-id").first()
    assert inbox_selectors.inbox_item(conversation, last_message=notice)["last_message"]["excerpt"] == excerpt
