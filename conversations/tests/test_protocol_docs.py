"""docs/architecture.md describes the protocol the code speaks: every frame, code and event, no more, no fewer.

The lists in the document are read back and compared with conversations.protocol and conversations.events, so
a frame added to the code without a line in the document (or a line left for a frame that is gone) fails here.
"""

from __future__ import annotations

import re

import pytest

from conversations.protocol import CloseCode, ErrorCode, HandoffReason, client, server
from tests.support.environment import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
NAME = re.compile(r"[a-z_.]+|\d{4}")


def section(heading: str) -> str:
    """The text under a `##`/`###` heading, up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(heading)}.*?\n(.*?)(?=^#)", DOC, flags=re.S | re.M)
    assert match, f"docs/architecture.md has no heading {heading!r}"
    return match.group(1)


def bullet_names(text: str) -> list[str]:
    """The names a bullet list declares: the backticked words of each bullet, up to the colon that starts its
    explanation (so `message` `{text, client_id}`: a resend with the same `client_id` … declares `message` only)."""
    names = []
    for line in text.splitlines():
        if not line.startswith("- "):
            continue
        for index, part in enumerate(line.split("`")):
            if index % 2 == 0 and index > 0 and ":" in part:
                break
            if index % 2 == 1 and NAME.fullmatch(part):
                names.append(part)
    return names


def test_bullet_names_stop_at_the_explanation() -> None:
    text = "- `message` `{text, client_id}`: a resend with the same `client_id`\n- `a`, `b` and `c` `{d}`\nnot `e`"
    assert bullet_names(text) == ["message", "a", "b", "c"]


@pytest.mark.parametrize(
    ("heading", "declared"),
    [
        ("Customer socket `/ws/chat/<token>/`: client → server", set(client.CUSTOMER_FRAMES)),
        ("Console socket `/ws/console/`: client → server", set(client.CONSOLE_FRAMES)),
        ("Customer socket: server → client", {server.frame_type(frame) for frame in server.CUSTOMER_FRAMES}),
        ("Console socket: server → client", {server.frame_type(frame) for frame in server.CONSOLE_FRAMES}),
        ("Error codes", set(ErrorCode.values)),
        ("Close codes", {str(code) for code in CloseCode.values}),
        ("Handoff reasons", set(HandoffReason.values)),
    ],
)
def test_the_document_lists_exactly_what_the_protocol_declares(heading: str, declared: set[str]) -> None:
    documented = bullet_names(section(heading))
    assert len(documented) == len(set(documented)), f"listed twice under {heading!r}"
    assert set(documented) == declared, (
        f"under {heading!r}: missing {sorted(declared - set(documented))}, stale {sorted(set(documented) - declared)}"
    )


def frame_types_sent_by(*paths: str) -> set[str]:
    sent: set[str] = set()
    for path in paths:
        sent |= set(re.findall(r'"type": "([a-z_.]+)"', (ROOT / path).read_text(encoding="utf-8")))
    return {kind for kind in sent if not kind.startswith("websocket.")}  # ASGI's own messages, not frames


def test_every_frame_the_sockets_send_is_declared() -> None:
    sent = frame_types_sent_by(
        "conversations/consumers.py", "conversations/sockets.py", "conversations/protocol/codes.py",
        "conversations/selectors/history.py",
    )
    assert sent <= {server.frame_type(frame) for frame in server.CUSTOMER_FRAMES}
    console = frame_types_sent_by("agents/consumers.py")
    assert console <= {server.frame_type(frame) for frame in server.CONSOLE_FRAMES}


def test_the_events_table_lists_every_event_the_events_module_sends() -> None:
    table = section("Events and who hears them")
    documented = set(re.findall(r"`([a-z]+\.[a-z_]+)`", table))
    code = (ROOT / "conversations" / "events.py").read_text(encoding="utf-8").split('"""', 2)[2]  # not the docstring
    sent = set(re.findall(r'"([a-z]+\.[a-z_]+)"', code))
    assert documented == sent, f"missing {sorted(sent - documented)}, stale {sorted(documented - sent)}"
