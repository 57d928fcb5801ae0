"""Model profiles for tests, saved the way admin saves them."""

from __future__ import annotations

from helpdesk.llm import profiles
from helpdesk.models import ModelProfile


def default_profile(**fields: object) -> ModelProfile:
    """The stored default profile with `fields` changed (made from the settings if a flush removed it)."""
    profile = ModelProfile.objects.filter(is_default=True).first() or profiles.profile_from_settings()
    return profiles.profile_save(profile=profile, **fields)


def canary_profile(name: str = "canary", *, share: float = 10.0, **fields: object) -> ModelProfile:
    default_profile()
    fields.setdefault("model", "deepseek-r1:14b")
    base = profiles.profile_from_settings()
    base.name, base.is_default = name, False
    return profiles.profile_save(profile=base, canary_share=share, **fields)
