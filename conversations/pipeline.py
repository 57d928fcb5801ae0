"""The reply pipeline: from a stored customer message to a stored, streamed bot reply.

Today: prompt from recent turns within the token budget, then a streaming
chat on Ollama. Moderation, FAQ rules, the answer cache, retrieval, confidence
and handoff slot in here as their issues land (DESIGN.md § One customer message).

The whole stream runs inside one async function on the worker thread's
persistent loop: per-token `async_to_sync` would open a Redis connection per
call and is many times slower.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from helpdesk import aio
from helpdesk import ollama as gateway

from . import events, selectors, services
from .models import Message

logger = logging.getLogger(__name__)

UNAVAILABLE_NOTICE = (
    "Our assistant is unavailable right now. Your message is saved and a colleague will get back to you."
)
INTERRUPTED_NOTICE = (
    "Sorry, the assistant's reply was interrupted. Your message is saved and a colleague will get back to you."
)
# Room left for the model's reply and for the chat template's own tokens.
TEMPLATE_MARGIN_TOKENS = 64


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token count: one per CJK character, one per ~4 other characters.

    Good enough to keep a prompt inside `num_ctx`; the exact count comes back
    from Ollama as `prompt_eval_count` and is stored with the reply.
    """
    cjk = sum(1 for ch in text if "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\uffef")
    other = len(text) - cjk
    return cjk + (other + 3) // 4 + 4  # +4 for the role markers around each turn


def prompt_build(*, system_prompt: str, turns: list[tuple[str, str]], num_ctx: int, num_predict: int) -> list[dict]:
    """System prompt plus the newest turns that fit in the context window.

    `turns` are (role, text) oldest first, with roles customer/bot/agent; the
    newest turn is always kept (truncated from the front if it alone is too
    long), older ones are dropped whole, so the model never sees half a turn
    in the middle of the dialogue.
    """
    budget = num_ctx - num_predict - TEMPLATE_MARGIN_TOKENS - estimate_tokens(system_prompt)
    chosen: list[dict] = []
    for role, text in reversed(turns):
        cost = estimate_tokens(text)
        if cost > budget:
            if not chosen:  # the customer's own question must go in, even cut short
                keep_chars = max(budget, 1)
                chosen.append({"role": _ollama_role(role), "content": text[-keep_chars:]})
            break
        chosen.append({"role": _ollama_role(role), "content": text})
        budget -= cost
    chosen.reverse()
    # DeepSeek's chat template expects the dialogue to open with the user.
    while chosen and chosen[0]["role"] == "assistant":
        chosen.pop(0)
    return [{"role": "system", "content": system_prompt}, *chosen]


def _ollama_role(role: str) -> str:
    return "user" if role == Message.Role.CUSTOMER else "assistant"


@dataclass
class StreamTarget:
    conversation_id: int
    message_id: int


def _cancel_requested(message_id: int) -> bool:
    """A blocking cache read, on purpose: this loop belongs to one reply's worker thread,
    and a thread hop per chunk (what `cache.aget` does) costs more than the read itself."""
    return bool(cache.get(services.cancel_flag_key(message_id)))


async def stream_reply(
    target: StreamTarget, messages: list[dict], options: gateway.ChatOptions
) -> services.ReplyOutcome:
    """Stream one reply from Ollama to the conversation's group; never raises for Ollama's failures."""
    started = time.perf_counter()
    coalesce_s = settings.DELTA_COALESCE_MS / 1000
    visible: list[str] = []
    reasoning: list[str] = []
    pending = ""
    seq = 0
    ttft_ms: float | None = None
    last_flush = 0.0
    stream: gateway.ChatStream | None = None

    async def flush() -> None:
        nonlocal pending, seq, last_flush
        if pending:
            await events.reply_delta(
                conversation_id=target.conversation_id, message_id=target.message_id, seq=seq, text=pending
            )
            seq += 1
            pending = ""
        last_flush = time.perf_counter()

    def outcome(status: str, **extra: object) -> services.ReplyOutcome:
        stats = stream.stats if stream else gateway.ChatStats()
        return services.ReplyOutcome(
            status=status,
            content="".join(visible).strip(),
            reasoning="".join(reasoning).strip(),
            model_name=options.model,
            ollama_host=stream.host if stream else "",
            ttft_ms=ttft_ms,
            total_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=stats.prompt_tokens or None,
            reply_tokens=stats.reply_tokens or None,
            done_reason=stats.done_reason,
            **extra,  # type: ignore[arg-type]
        )

    await events.bot_typing(conversation_id=target.conversation_id, active=True)
    try:
        stream = await gateway.open_chat_stream(messages, options)
        # aclosing: leaving early (a stop) closes the stream's generator, and the HTTP stream with it.
        async with contextlib.aclosing(aiter(stream)) as pieces:
            async for piece in pieces:
                if piece.reasoning:
                    reasoning.append(piece.reasoning)
                if piece.visible:
                    if not visible and ttft_ms is None:
                        piece.visible = piece.visible.lstrip()
                        if not piece.visible:
                            continue
                        ttft_ms = (time.perf_counter() - started) * 1000
                    visible.append(piece.visible)
                    pending += piece.visible
                    if seq == 0 or time.perf_counter() - last_flush >= coalesce_s:
                        await flush()
                if _cancel_requested(target.message_id):
                    await flush()
                    return outcome(Message.Status.CANCELLED)
        await flush()
        return outcome(Message.Status.COMPLETE)
    except gateway.OllamaError as exc:
        await flush()
        logger.error(
            "reply %s for conversation %s failed on Ollama host %s: %s",
            target.message_id,
            target.conversation_id,
            exc.host or ", ".join(settings.OLLAMA_HOSTS),
            exc,
        )
        notice = INTERRUPTED_NOTICE if visible else UNAVAILABLE_NOTICE
        failed = outcome(Message.Status.FAILED, error_kind=exc.kind, error=str(exc), customer_notice=notice)
        failed.ollama_host = failed.ollama_host or exc.host
        return failed
    finally:
        await events.bot_typing(conversation_id=target.conversation_id, active=False)


def reply_generate(*, customer_message_id: int) -> Message | None:
    """Generate, stream and store the bot's reply to one customer message (idempotent)."""
    bot_message = services.bot_reply_start(customer_message_id=customer_message_id)
    if bot_message is None:
        return None
    options = gateway.ChatOptions.from_settings()
    turns = [
        (turn.role, turn.content)
        for turn in selectors.dialogue_before(
            conversation=bot_message.conversation, up_to_message_id=customer_message_id
        )
    ]
    messages = prompt_build(
        system_prompt=settings.LLM_SYSTEM_PROMPT,
        turns=turns,
        num_ctx=options.num_ctx,
        num_predict=options.num_predict,
    )
    target = StreamTarget(conversation_id=bot_message.conversation_id, message_id=bot_message.pk)
    # The stream takes seconds and needs no database: hand the connection back
    # rather than hold one idle per reply being generated.
    connection.close()
    outcome = aio.run(stream_reply(target, messages, options))
    return services.bot_reply_finish(message_id=bot_message.pk, outcome=outcome)
