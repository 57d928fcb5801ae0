"""One reply streamed from Ollama to the conversation's group, and what came of it.

The whole stream runs inside one async function on the process's stream loop
(helpdesk.runtime.aio.run_shared), beside every other reply the process is
streaming: per-token `async_to_sync` would open a Redis connection per call and
is many times slower, and a thread or a process per stream costs more than the
stream. Nothing on it blocks for long: the database is reached through
`aio.db_call`, a stop is read for all streams at once (helpdesk.runtime.flags).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings

from helpdesk.llm import ollama as gateway
from helpdesk.observability import metrics
from helpdesk.runtime import aio
from helpdesk.runtime.flags import flag_watch

from .. import events, guard
from ..models import Message
from ..moderation.stream import ModerationFilter
from ..notices import (
    INTERRUPTED_NOTICE,
    MODERATION_WITHHELD_NOTICE,
    UNAVAILABLE_NOTICE,
    WITHHELD_NOTICE,
    notice_in,
)
from ..outcome import ReplyOutcome
from ..privacy.masking import Masker, PlaceholderFilter
from ..protocol.codes import HandoffReason
from ..services import replies
from ..services.cancel import cancel_flag_key
from .citations import CitationFilter

logger = logging.getLogger(__name__)

# The error kind (and handoff reason) of a reply stopped because it repeated the system prompt's canary.
PROMPT_LEAK = HandoffReason.PROMPT_LEAK  # an error kind too
# The error kind of a reply stopped because it wrote a blocked term (conversations.moderation).
MODERATED = "moderation"


@dataclass
class StreamTarget:
    conversation_id: int
    message_id: int
    language: str = "en"  # of the customer's question: notices are written in it
    attempt: int = 0  # the reply's generation attempt (Message.attempts); 0: nothing is saved while streaming


async def stream_reply(
    target: StreamTarget,
    messages: list[dict],
    options: gateway.ChatOptions,
    citations: CitationFilter | None = None,
    canary: guard.CanaryFilter | None = None,
    moderation: ModerationFilter | None = None,
    masker: Masker | None = None,
) -> ReplyOutcome:
    """Stream one reply from Ollama to the conversation's group; never raises for Ollama's failures.

    A reply that repeats the system prompt's canary is stopped there and withheld (see `_withheld`); one that
    writes a blocked term is stopped before it and replaced by a notice (see `_moderated`); the placeholders of
    `masker` the model writes are restored as they stream (conversations.privacy.masking)."""
    return await ReplyStream(
        target, messages, options, citations or CitationFilter(0), canary or guard.CanaryFilter(guard.prompt_canary()),
        moderation or ModerationFilter(None), masker or Masker(enabled=False),
    ).run()


class ReplyStream:
    """The state of one reply while it streams: the text shown so far, the text not yet sent (deltas are
    coalesced every DELTA_COALESCE_MS), the reasoning, and the timings that go into its outcome."""

    def __init__(
        self, target: StreamTarget, messages: list[dict], options: gateway.ChatOptions,
        citations: CitationFilter, canary: guard.CanaryFilter, moderation: ModerationFilter, masker: Masker,
    ) -> None:
        self.target, self.messages, self.options = target, messages, options
        self.citations, self.canary, self.moderation, self.masker = citations, canary, moderation, masker
        self.placeholders = PlaceholderFilter(masker)
        self.started = time.perf_counter()
        self.coalesce_s = settings.DELTA_COALESCE_MS / 1000
        self.visible: list[str] = []
        self.reasoning: list[str] = []
        self.pending = ""
        self.sent = ""  # what the deltas carried so far
        self.seq = 0
        self.ttft_ms: float | None = None
        self.last_flush = 0.0
        self.stream: gateway.ChatStream | None = None
        self.saver: asyncio.Task | None = None
        self.cancel_key = cancel_flag_key(target.message_id)
        # The stop flag is read once per coalescing interval for every stream of the loop: a read per token
        # cost a quarter of the worker's time per chunk, and a stop waits one interval longer at most.
        self.stops = flag_watch(self.coalesce_s)  # made on the loop the stream runs on (stream_reply)

    async def run(self) -> ReplyOutcome:
        # Done early only when the reply was taken from this attempt: then it stops, sending nothing more.
        if self.target.attempt:
            self.saver = asyncio.create_task(_progress_save(self.target, self.visible))
        self.stops.watch(self.cancel_key)
        await events.bot_typing(conversation_id=self.target.conversation_id, active=True)
        deadline = asyncio.timeout(settings.REPLY_MAX_DURATION_S)
        try:
            async with deadline:
                return await self._relay()
        except gateway.OllamaError as exc:
            return await self._failed(exc)
        except TimeoutError:
            if not deadline.expired():
                raise
            return await self._failed(self._too_slow())
        finally:
            self.stops.unwatch(self.cancel_key)
            if self.saver:
                self.saver.cancel()
            await events.bot_typing(conversation_id=self.target.conversation_id, active=False)

    async def _relay(self) -> ReplyOutcome:
        self.stream = await gateway.open_chat_stream(self.messages, self.options)
        # aclosing: leaving early (a stop) closes the stream's generator, and the HTTP stream with it.
        async with contextlib.aclosing(aiter(self.stream)) as pieces:
            async for piece in pieces:
                stopped = await self._take(piece)
                if stopped is not None:
                    return stopped
        tail = self.canary.feed(self.placeholders.feed(self.citations.finish()) + self.placeholders.finish())
        tail += self.canary.finish()
        if self.canary.tripped:
            return _withheld(self._outcome(Message.Status.FAILED), self.target)
        tail = self.moderation.feed(tail) + self.moderation.finish()
        if self.moderation.tripped is not None:
            return _moderated(self._outcome(Message.Status.COMPLETE), self.target)
        if tail.strip() or self.visible:
            self._show(tail)
        await self._flush()
        return self._outcome(Message.Status.COMPLETE)

    async def _take(self, piece: gateway.StreamPiece) -> ReplyOutcome | None:
        """One piece of the stream, sent on once markers and the canary are checked; the outcome if the reply
        stops here."""
        if self.saver and self.saver.done():  # taken over: not one more delta from this attempt
            return self._outcome(Message.Status.CANCELLED)
        if piece.reasoning:
            self.reasoning.append(piece.reasoning)
        text = self.citations.feed(piece.visible) if piece.visible else ""
        text = self.placeholders.feed(text) if text else ""
        text = self.canary.feed(text) if text else ""
        if self.canary.tripped:
            return _withheld(self._outcome(Message.Status.FAILED), self.target)
        text = self.moderation.feed(text) if text else ""
        if self.moderation.tripped is not None:
            return _moderated(self._outcome(Message.Status.COMPLETE), self.target)
        if text:
            if not self.visible and self.ttft_ms is None:
                text = text.lstrip()
                if not text:
                    return None
                self.ttft_ms = (time.perf_counter() - self.started) * 1000
            self._show(text)
            if self.seq == 0 or time.perf_counter() - self.last_flush >= self.coalesce_s:
                await self._flush()
        if self.stops.is_raised(self.cancel_key):
            self._keep_held()
            await self._flush()
            return self._outcome(Message.Status.CANCELLED)
        return None

    async def _failed(self, exc: gateway.OllamaError) -> ReplyOutcome:
        self._keep_held()
        await self._flush()
        logger.error(
            "reply %s for conversation %s failed on Ollama host %s: %s",
            self.target.message_id,
            self.target.conversation_id,
            exc.host or ", ".join(settings.OLLAMA_HOSTS),
            exc,
        )
        notice = notice_in(self.target.language, INTERRUPTED_NOTICE if self.visible else UNAVAILABLE_NOTICE)
        failed = self._outcome(Message.Status.FAILED, error_kind=exc.kind, error=str(exc), customer_notice=notice)
        failed.ollama_host = failed.ollama_host or exc.host
        return failed

    def _too_slow(self) -> gateway.TooSlow:
        """The reply ran past REPLY_MAX_DURATION_S (the stream is closed, which stops the node): counted against
        its node like a stream that broke."""
        host = self.stream.host if self.stream else ""
        metrics.ollama_failed(kind=gateway.TooSlow.kind, node=host)
        return gateway.TooSlow(f"the reply took longer than REPLY_MAX_DURATION_S ({settings.REPLY_MAX_DURATION_S:g} s)",
                               host=host, model=self.options.model)

    def _show(self, text: str) -> None:
        self.visible.append(text)
        self.pending += text

    async def _flush(self) -> None:
        if self.pending:
            self.sent += self.pending
            # The progress (what a socket joining now reads) is written before the delta goes out, with it.
            await events.reply_delta(
                conversation_id=self.target.conversation_id, message_id=self.target.message_id, seq=self.seq,
                text=self.pending, sent=self.sent,
            )
            self.seq += 1
            self.pending = ""
        self.last_flush = time.perf_counter()

    def _keep_held(self) -> None:
        """A stop or a failure ends the stream early: the text the canary check held back goes out after all."""
        held = self.canary.feed(self.placeholders.finish()) + self.canary.finish()
        held = self.moderation.feed(held) + self.moderation.finish()
        held = held if self.visible else held.lstrip()
        if held:
            self._show(held)

    def _outcome(self, status: str, **extra: object) -> ReplyOutcome:
        stats = self.stream.stats if self.stream else gateway.ChatStats()
        return ReplyOutcome(
            status=status,
            content="".join(self.visible).strip(),
            reasoning=self.masker.restore("".join(self.reasoning).strip()),
            model_name=self.options.model,
            ollama_host=self.stream.host if self.stream else "",
            ttft_ms=self.ttft_ms,
            total_ms=(time.perf_counter() - self.started) * 1000,
            prompt_tokens=stats.prompt_tokens or None,
            reply_tokens=stats.reply_tokens or None,
            done_reason=stats.done_reason,
            **extra,  # type: ignore[arg-type]
        )


def _withheld(failed: ReplyOutcome, target: StreamTarget) -> ReplyOutcome:
    """A reply caught repeating the system prompt: stopped, its text withdrawn (the `done` frame carries none,
    so what was already shown is replaced), the customer told politely and the conversation handed to a human."""
    logger.warning("reply %s for conversation %s repeated the system prompt's canary: withheld",
                   target.message_id, target.conversation_id)
    failed.content = ""
    failed.error_kind = PROMPT_LEAK
    failed.error = "the reply repeated the system prompt (its canary) and was withheld from the customer"
    failed.customer_notice = notice_in(target.language, WITHHELD_NOTICE)
    return failed


def _moderated(outcome: ReplyOutcome, target: StreamTarget) -> ReplyOutcome:
    """A reply that wrote a blocked term: stopped before the term, its text replaced by a polite notice in the
    customer's language (the `done` frame carries it, so what was already shown goes too). The reply pipeline
    records the hit and carries out its category's action."""
    logger.warning("reply %s for conversation %s wrote a blocked term: replaced", target.message_id,
                   target.conversation_id)
    outcome.content = notice_in(target.language, MODERATION_WITHHELD_NOTICE)
    outcome.error_kind = MODERATED
    outcome.error = "the reply wrote a blocked term and was replaced by a notice"
    return outcome


async def _progress_save(target: StreamTarget, visible: list[str]) -> None:
    """Write the reply's text so far, and so its heartbeat, every REPLY_SAVE_INTERVAL_S (a timer: a model
    loading or reasoning sends no text for a while, and is alive). Returns once the reply is no longer this
    attempt's: the sweeper took the worker for dead, or the reply was failed meanwhile."""
    while True:
        try:  # at once too: an attempt the sweeper gave up on while it looked up knowledge stops before it streams
            ours = await aio.db_call(
                replies.reply_progress_save, message_id=target.message_id, attempt=target.attempt,
                content="".join(visible),
            )
        except Exception:  # the next beat tries again; the reply itself goes on
            logger.exception("reply %s: could not save its progress", target.message_id)
            ours = True
        if not ours:
            logger.warning("reply %s attempt %s was taken over: stopping", target.message_id, target.attempt)
            return
        await asyncio.sleep(settings.REPLY_SAVE_INTERVAL_S)
