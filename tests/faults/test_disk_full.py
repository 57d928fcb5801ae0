"""The disk under the embedded mode's SQLite file fills up while customers write.

The product as `make run` starts it (embedded mode), its database on a small tmpfs of the test's own that a filler
file then fills to the last byte. What must hold: a customer's message is refused with an error the widget shows
and resends by itself (nothing half-stored), a new visitor is told "busy, retry" (503 with Retry-After, not a
500), the server keeps running, and once space is freed the resent message is stored once and answered.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import LiveServer
from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import require
from tests.support.sockets import conversation_post, frames_until

pytestmark = pytest.mark.timeout(240)

TMPFS_BYTES = 256 * 1024 * 1024  # the migrations' write-ahead log alone takes tens of MB


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A tmpfs of TMPFS_BYTES mounted for the test (root can mount; CI runs as root)."""
    mountpoint = Path(tempfile.mkdtemp(prefix="helpdesk-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    require(mounted.returncode == 0, f"a tmpfs mount ({mounted.stderr.strip()})")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        shutil.rmtree(mountpoint, ignore_errors=True)


def _fill(directory: Path) -> Path:
    """Write until the file system says ENOSPC: not one byte is left."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
        try:
            while True:
                out.write(b"\0")
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_refuses_messages_visibly_and_nothing_is_lost_once_space_is_freed(
    small_disk: Path, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Stored and answered after the disk was freed."))
    server = LiveServer(fake_ollama_server.url, {"SQLITE_PATH": str(small_disk / "db.sqlite3"),
                                                 "LOAD_DEMO_KNOWLEDGE": "false", "HANDOFF_THRESHOLD": "0"})
    server.db_path = small_disk / "db.sqlite3"
    text = "我的订单 A1234 还没到 — my order has not arrived"

    async def converse(url: str) -> tuple[dict, dict]:
        frames: list[dict] = []
        async with websockets.connect(url, additional_headers={"Origin": server.url}) as ws:
            await frames_until(ws, {"history"}, frames, timeout=30)
            filler = await asyncio.to_thread(_fill, small_disk)  # the disk fills while the customer types
            await ws.send(json.dumps({"type": "message", "text": text, "client_id": "disk-1"}))
            refused = await frames_until(ws, {"error", "message"}, frames, timeout=30)
            # The operator frees space; the widget resends what was refused (same client_id).
            await asyncio.to_thread(filler.unlink)
            await ws.send(json.dumps({"type": "message", "text": text, "client_id": "disk-1"}))
            return refused, await frames_until(ws, {"done"}, frames, timeout=30)

    async def connect_while_full(url: str) -> tuple[dict, int | None]:
        """A widget (re)connecting: reads may still work on a full disk (the history comes), or fail after
        SQLite's busy timeout (20 s), when the socket must be closed with "come back later", not dropped."""
        async with websockets.connect(url, additional_headers={"Origin": server.url}, open_timeout=60) as ws:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if frame["type"] == "history":
                return frame, None
            await asyncio.wait_for(ws.wait_closed(), 20)
            return frame, ws.close_code

    with server:
        server.start()
        status, _, body = conversation_post(server.url)
        assert status == 201, body
        url = server.url.replace("http", "ws") + f"/ws/chat/{json.loads(body)['token']}/"

        refused, done = asyncio.run(converse(url))
        assert refused["type"] == "error" and refused["code"] == "busy" and refused["client_id"] == "disk-1", refused
        assert refused.get("retry_after"), "the widget waits, then resends"
        assert done["message"]["content"] == "Stored and answered after the disk was freed."
        assert server.query("SELECT count(*) FROM conversations_message WHERE client_id = 'disk-1'") == [(1,)]

        filler = _fill(small_disk)
        try:
            new_visitor = conversation_post(server.url)
            reconnecting = asyncio.run(connect_while_full(url))
        finally:
            filler.unlink()
        assert new_visitor[0] == 503 and new_visitor[1].get("Retry-After"), new_visitor
        assert b"Traceback" not in new_visitor[2]
        assert reconnecting[0]["type"] == "history" or (
            reconnecting[0]["code"] == "busy" and reconnecting[1] == 4503), reconnecting
        print(f"\nthe disk full: the customer's message got {refused['type']} {refused['code']!r} (retry after "
              f"{refused['retry_after']} s), the resend was stored and answered: {done['message']['content']!r}; a "
              f"new visitor got {new_visitor[0]}; a widget reconnecting got {reconnecting[0]['type']}")
        assert server.live(), "the server kept running"
        assert conversation_post(server.url)[0] == 201, "and serves again once there is room"
