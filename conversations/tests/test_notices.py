"""The system notices in the customer's language, from the message catalog."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from conversations import notices

NOTICES = [value for name, value in vars(notices).items() if name.endswith("_NOTICE")]
VALUES = {"hours": "Mon-Fri 09:00-18:00 (Asia/Shanghai)", "name": "Mei", "email": "li@example.com",
          "action": "order_cancel", "arguments": "(order_number 10234)", "facts": "status: shipped"}


def filled(notice: str) -> dict[str, str]:
    return {name: VALUES[name] for name in re.findall(r"%\((\w+)\)s", notice)}


@pytest.mark.parametrize("notice", NOTICES)
def test_every_notice_reads_in_simplified_chinese(notice: str) -> None:
    values = filled(notice)
    chinese = notices.notice_in("zh-hans", notice, **values)
    assert re.search(r"[\u4e00-\u9fff]", chinese) and "%(" not in chinese
    assert all(value in chinese for value in values.values())


@pytest.mark.parametrize("notice", NOTICES)
def test_english_is_the_msgid_itself(notice: str) -> None:
    values = filled(notice)
    assert notices.notice_in("en", notice, **values) == (notice % values if values else notice)


def test_the_language_is_switched_for_the_one_notice_only() -> None:
    with translation.override("en"):
        assert notices.notice_in("zh-hans", notices.AGENT_JOINED_NOTICE, name="Mei") == "客服 Mei 已加入对话。"
        assert translation.get_language() == "en"
