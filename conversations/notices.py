"""The system notices a customer reads when the assistant cannot answer, in each language.

Shared by the pipeline (which posts them when a reply fails) and the
services (which post them when a stopped or stale reply is closed).
"""

from __future__ import annotations

UNAVAILABLE_NOTICE = (
    "Our assistant is unavailable right now. Your message is saved and a colleague will get back to you."
)
INTERRUPTED_NOTICE = (
    "Sorry, the assistant's reply was interrupted. Your message is saved and a colleague will get back to you."
)
WITHHELD_NOTICE = "Sorry, the assistant could not answer this one. A colleague will get back to you shortly."
NOTICES_ZH = {
    UNAVAILABLE_NOTICE: "智能助手暂时无法回复。您的消息已保存，客服同事会尽快回复您。",
    INTERRUPTED_NOTICE: "抱歉，智能助手的回复中断了。您的消息已保存，客服同事会尽快回复您。",
    WITHHELD_NOTICE: "抱歉，智能助手无法回答这个问题，客服同事会尽快回复您。",
}


def notice_in(language: str, notice: str) -> str:
    """One of the notices above, in the customer's language."""
    return NOTICES_ZH[notice] if language == "zh-hans" else notice
