"""The websocket protocol: frames parsed into typed values or refused with the right code, and the codes the
widget and the console read kept in step with conversations/protocol/codes.py."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.consumers import CustomerChatConsumer
from conversations.protocol import ErrorCode, FrameError, HandoffReason
from conversations.protocol import client as frames
from conversations.protocol.fields import frame_decode
from conversations.protocol.javascript import BEGIN, EXPORTS, js_update
from tests.support.environment import ROOT


def decode(text: str | None, max_chars: int = 100) -> dict[str, Any]:
    return frame_decode(text, max_chars=max_chars, too_large="too large")


def refusal(parse: Any, *args: Any) -> FrameError:
    with pytest.raises(FrameError) as error:
        parse(*args)
    return error.value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, ErrorCode.BAD_FRAME),  # a binary frame
        ("x" * 101, ErrorCode.FRAME_TOO_LARGE),
        ("{not json", ErrorCode.INVALID_JSON),
        ("[1, 2]", ErrorCode.BAD_FRAME),
        ('{"text": "no type"}', ErrorCode.BAD_FRAME),
        ('{"type": 7}', ErrorCode.BAD_FRAME),
    ],
)
def test_a_frame_that_is_no_json_object_with_a_type_is_refused(text: str | None, code: ErrorCode) -> None:
    assert refusal(decode, text).code == code


def test_the_size_limit_is_checked_before_decoding() -> None:
    assert refusal(decode, "{" * 101).code == ErrorCode.FRAME_TOO_LARGE
    assert decode('{"type": "stop"}') == {"type": "stop"}


def test_a_customer_message_is_parsed_stripped() -> None:
    frame = frames.ChatMessage.parse({"type": "message", "text": "  hello ", "client_id": "c-1"})
    assert frame == frames.ChatMessage(text="hello", client_id="c-1")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"text": 42}, ErrorCode.INVALID_MESSAGE),
        ({"text": "   "}, ErrorCode.EMPTY_MESSAGE),
        ({"text": "x" * 100_000}, ErrorCode.MESSAGE_TOO_LONG),
        ({"client_id": 7}, ErrorCode.INVALID_CLIENT_ID),
        ({"client_id": "bad\nid"}, ErrorCode.INVALID_CLIENT_ID),
    ],
)
def test_a_bad_message_field_is_refused_with_its_code(fields: dict[str, Any], code: ErrorCode) -> None:
    frame = {"type": "message", "text": "hi", "client_id": "c-1", **fields}
    error = refusal(frames.ChatMessage.parse, frame)
    assert error.code == code
    # The widget marks its pending message as not delivered by the echoed client_id.
    assert error.frame().get("client_id") == (frame["client_id"] if isinstance(frame["client_id"], str) else None)


@pytest.mark.parametrize(
    ("frame_class", "fields", "code"),
    [
        (frames.Feedback, {"message_id": 1, "rating": 0}, ErrorCode.INVALID_FEEDBACK),
        (frames.Feedback, {"message_id": 1, "rating": True}, ErrorCode.INVALID_FEEDBACK),
        (frames.Feedback, {"message_id": 1, "rating": 1, "comment": 5}, ErrorCode.INVALID_FEEDBACK),
        (frames.Feedback, {"message_id": "1", "rating": 1}, ErrorCode.UNKNOWN_MESSAGE),
        (frames.Csat, {"score": 6}, ErrorCode.INVALID_CSAT),
        (frames.Csat, {"score": 5, "comment": "x" * 2001}, ErrorCode.INVALID_CSAT),
        (frames.Contact, {"email": "not an address"}, ErrorCode.INVALID_EMAIL),
        (frames.Contact, {}, ErrorCode.INVALID_EMAIL),
        (frames.Prechat, {"name": ["Li"]}, ErrorCode.INVALID_NAME),
        (frames.Prechat, {"email": 3}, ErrorCode.INVALID_EMAIL),
    ],
)
def test_a_field_of_the_wrong_type_or_range_is_refused(frame_class: Any, fields: dict, code: ErrorCode) -> None:
    error = refusal(frame_class.parse, {"type": frame_class.type, **fields})
    assert error.code == code
    assert error.frame() == {"type": "error", "code": code, "detail": error.detail}


def test_customer_frames_are_parsed_into_typed_values() -> None:
    assert frames.Feedback.parse({"message_id": 3, "rating": -1}) == frames.Feedback(3, -1, "")
    assert frames.Csat.parse({"score": 4, "comment": " ok "}) == frames.Csat(4, "ok")
    assert frames.Prechat.parse({"name": " Li   Lei "}) == frames.Prechat("Li Lei", "")
    assert frames.Typing.parse({"active": 1}) == frames.Typing(True)
    assert frames.PrivacyNotice.parse({"version": "2026-03"}) == frames.PrivacyNotice("2026-03")
    assert set(frames.CUSTOMER_FRAMES) == {
        "message", "request_human", "stop", "typing", "feedback", "csat", "contact", "prechat", "privacy_notice"
    }


@pytest.mark.parametrize("conversation_id", [None, "3", True, 1.5])
def test_a_console_frame_about_a_conversation_needs_its_number(conversation_id: Any) -> None:
    error = refusal(frames.TakeOver.parse, {"type": "take_over", "conversation_id": conversation_id})
    assert error.code == ErrorCode.BAD_FRAME and not error.extra


def test_a_console_field_error_names_the_conversation_and_echoes_the_client_id() -> None:
    error = refusal(frames.AgentReply.parse, {"conversation_id": 4, "text": "", "client_id": "a-1"})
    assert error.frame() == {"type": "error", "code": ErrorCode.EMPTY_MESSAGE, "detail": error.detail,
                             "conversation_id": 4, "client_id": "a-1"}


def test_console_frames_are_parsed_into_typed_values() -> None:
    assert frames.AgentReply.parse({"conversation_id": 4, "text": " hi "}) == frames.AgentReply(4, "hi", None)
    assert frames.Assign.parse({"conversation_id": 4, "agent_id": "x"}) == frames.Assign(4, None)
    assert frames.InboxPage.parse({"status": 3, "search": "s" * 300}) == frames.InboxPage("", "s" * 200, "")
    assert frames.AgentTyping.parse({"conversation_id": 4}) == frames.AgentTyping(4, False)


def test_codes_are_their_wire_strings() -> None:
    wire = json.dumps(FrameError(ErrorCode.BUSY, "wait").frame())
    assert wire == '{"type": "error", "code": "busy", "detail": "wait"}'
    assert HandoffReason("unanswered") == "unanswered"


def test_an_unknown_frame_type_is_refused_by_the_customer_socket() -> None:
    """(The console's socket: agents/tests/test_console_protocol.py.)"""
    error = refusal(CustomerChatConsumer().frame_parse, {"type": "dance"})
    assert error.code == ErrorCode.UNKNOWN_TYPE and "dance" in error.detail
    assert CustomerChatConsumer().frame_parse({"type": "typing", "conversation_id": 1, "active": True}).active


def test_the_scripts_carry_the_current_codes() -> None:
    call_command("protocol_js", "--check")


def test_the_check_fails_on_a_stale_script(tmp_path, settings) -> None:
    (tmp_path / "static").mkdir()
    for script in EXPORTS:
        source = (ROOT / "static" / script).read_text(encoding="utf-8")
        stale = source.replace('"taken"', '"took"').replace("4403", "4000")
        (tmp_path / "static" / script).write_text(stale, encoding="utf-8")
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match="stale"):
        call_command("protocol_js", "--check")
    call_command("protocol_js")
    call_command("protocol_js", "--check")


def test_a_script_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape(BEGIN)):
        js_update("widget.js", "var x;")


@pytest.mark.parametrize("script", list(EXPORTS))
def test_the_scripts_spell_no_code_by_hand(script: str) -> None:
    source = (ROOT / "static" / script).read_text(encoding="utf-8")
    assert not re.findall(r'\.code === "|\.code === \d', source)
