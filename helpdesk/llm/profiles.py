"""Model profiles: which one a conversation gets (default or canary), and the request options it means.

A canary release gives a second profile a share of *new* conversations. The
choice is a stable hash of the conversation's token, stored on the
conversation, so a conversation keeps its profile when the share changes;
setting the share to 0 rolls the canary back, and its conversations return to
the default profile on their next reply. The profiles a reply is answered with are kept in each process while
their version in the shared cache stays the same (helpdesk.runtime.versioned): a save or delete moves it, so an
admin's change applies to the very next reply, without a restart, and a reply costs no query for its profile.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk.llm import ollama as gateway
from helpdesk.models import ModelProfile
from helpdesk.runtime.versioned import Versioned

BUCKETS = 10_000  # shares are honoured to 0.01 %

# Checks an app registers (conversations: the evaluation gate) before a profile is promoted: made the default,
# or its canary share raised above EVAL_GATE_FREE_SHARE. Each takes the profile as it would be saved and
# {"becomes_default": bool, "canary_share": new share, "previous_share": stored share} and returns why it
# refuses, or "". The core cannot import the apps that know how a profile did; they register here.
promotion_gates: list[Callable[[ModelProfile, dict], str]] = []


def canary_bucket(key: str) -> float:
    """Where `key` falls on 0-100 (a percentage), the same in every process and across restarts."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS * 100 / BUCKETS


def profile_from_settings() -> ModelProfile:
    """The LLM_* settings as an unsaved profile: used only while no default profile is stored."""
    return ModelProfile(
        name="settings",
        model=settings.OLLAMA_CHAT_MODEL,
        temperature=settings.LLM_TEMPERATURE,
        top_p=settings.LLM_TOP_P,
        num_predict=settings.LLM_NUM_PREDICT,
        num_ctx=settings.LLM_NUM_CTX,
        think=settings.LLM_THINK,
        keep_alive=settings.OLLAMA_KEEP_ALIVE,
        system_prompt_en=settings.LLM_SYSTEM_PROMPT,
        system_prompt_zh=settings.LLM_SYSTEM_PROMPT_ZH,
        handoff_threshold=settings.HANDOFF_THRESHOLD,
        is_default=True,
    )


def _profiles_load() -> dict[int, ModelProfile]:
    return {profile.pk: profile for profile in ModelProfile.objects.order_by("pk")}


# Every stored profile by id (an admin keeps a handful), read again when one is saved or deleted (helpdesk.apps).
profiles_kept: Versioned[dict[int, ModelProfile]] = Versioned("model-profiles", _profiles_load)


def _kept(profile: ModelProfile) -> ModelProfile:
    """A copy of a kept profile: a caller that changes its copy changes no other thread's."""
    return copy.copy(profile)


def _default_of(kept: list[ModelProfile]) -> ModelProfile | None:
    """The default profile (the model's ordering breaks a tie, which profile_save never leaves)."""
    return min((profile for profile in kept if profile.is_default), key=lambda profile: profile.name, default=None)


def profile_default() -> ModelProfile:
    default = _default_of(list(profiles_kept.get().values()))
    return _kept(default) if default is not None else profile_from_settings()


def profile_choose(bucket: float, *, default: ModelProfile | None, canaries: list[ModelProfile]) -> ModelProfile | None:
    """The canary whose range holds `bucket`, else the default.

    Canaries are laid out one after another from 0 % in the order given (their
    ids), so raising a share only moves conversations not yet assigned.
    """
    upper = 0.0
    for profile in canaries:
        upper += profile.canary_share
        if bucket < upper:
            return profile
    return default


def profile_for_new_conversation(*, key: str) -> ModelProfile | None:
    """The profile a new conversation starts with (None while no profile is stored: the settings apply)."""
    kept = list(profiles_kept.get().values())  # in the order of their ids
    canaries = [profile for profile in kept if not profile.is_default and profile.canary_share > 0]
    default = _default_of(kept)
    chosen = profile_choose(canary_bucket(key), default=default, canaries=canaries)
    return _kept(chosen) if chosen is not None else None


def profile_in_force(*, profile_id: int | None, pinned: bool = False) -> ModelProfile:
    """The profile that answers a conversation now: its own, unless that canary was rolled back.

    `pinned`: its own whatever its share (an evaluation measures a profile before it gets any traffic)."""
    if profile_id is not None:
        profile = profiles_kept.get().get(profile_id)
        if profile is not None and (pinned or profile.is_default or profile.canary_share > 0):
            return _kept(profile)
    return profile_default()


def chat_options(profile: ModelProfile) -> gateway.ChatOptions:
    return gateway.ChatOptions(
        model=profile.model,
        temperature=profile.temperature,
        top_p=profile.top_p,
        num_predict=profile.num_predict,
        num_ctx=profile.num_ctx,
        think=profile.think,
        keep_alive=profile.keep_alive,
    )


def configured_chat_models() -> list[str]:
    """Every model a conversation may be answered with now (the default and live canaries)."""
    models = [p.model for p in ModelProfile.objects.filter(is_default=True)]
    models += [p.model for p in ModelProfile.objects.filter(is_default=False, canary_share__gt=0).order_by("pk")]
    return list(dict.fromkeys(models)) or [settings.OLLAMA_CHAT_MODEL]


# --- writes --------------------------------------------------------------------------------------


def canary_shares_check(*, profile: ModelProfile) -> None:
    """Canary shares add up to at most 100 %; the default takes whatever is left."""
    if profile.is_default:
        return
    others = ModelProfile.objects.filter(is_default=False).exclude(pk=profile.pk)
    total = sum(p.canary_share for p in others) + profile.canary_share
    if total > 100:
        raise ValidationError(
            {"canary_share": f"canary shares would add up to {total:g} %; at most 100 % can go to canaries"}
        )


def promotion_check(*, profile: ModelProfile) -> None:
    """Ask every registered gate whether `profile` (as it would be saved) may be promoted: made the default
    when it is not, or given a canary share above EVAL_GATE_FREE_SHARE higher than it has. Raises a
    ValidationError with every refusal; a small canary share and any demotion pass without asking."""
    stored = ModelProfile.objects.filter(pk=profile.pk).first() if profile.pk else None
    becomes_default = profile.is_default and not (stored and stored.is_default)
    previous_share = stored.canary_share if stored else 0.0
    rises = profile.canary_share > settings.EVAL_GATE_FREE_SHARE and profile.canary_share > previous_share
    if not (becomes_default or (rises and not profile.is_default)):
        return
    context = {"becomes_default": becomes_default, "canary_share": profile.canary_share,
               "previous_share": previous_share}
    reasons = [reason for gate in promotion_gates if (reason := gate(profile, context))]
    if reasons:
        raise ValidationError({"is_default" if becomes_default else "canary_share": reasons})


def profile_save(*, profile: ModelProfile, **changes: Any) -> ModelProfile:
    """Save a profile with `changes`; making it the default unsets the old default, and the default
    keeps no canary share of its own. A promotion must pass the registered gates."""
    for field, value in changes.items():
        setattr(profile, field, value)
    if profile.is_default:
        profile.canary_share = 0.0
    profile.full_clean(validate_constraints=False)
    canary_shares_check(profile=profile)
    promotion_check(profile=profile)
    with transaction.atomic():
        if profile.is_default:
            ModelProfile.objects.select_for_update().filter(is_default=True).exclude(pk=profile.pk).update(
                is_default=False
            )
        elif not ModelProfile.objects.filter(is_default=True).exclude(pk=profile.pk).exists():
            raise ValidationError({"is_default": "one profile must be the default"})
        profile.save()
    return profile
