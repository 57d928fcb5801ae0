"""The console's socket parses frames on the shared protocol: an unknown type is refused with its code."""

from __future__ import annotations

import pytest

from agents.consumers import AgentConsoleConsumer
from conversations.protocol import ErrorCode, FrameError


def test_an_unknown_frame_type_is_refused_by_the_console_socket() -> None:
    with pytest.raises(FrameError) as error:
        AgentConsoleConsumer().frame_parse({"type": "dance"})
    assert error.value.code == ErrorCode.UNKNOWN_TYPE and "dance" in error.value.detail
    assert AgentConsoleConsumer().frame_parse({"type": "typing", "conversation_id": 1, "active": True}).active
