"""Model profiles: how the bot asks Ollama (the seed article's model.json, per profile, editable in admin).

Exactly one profile is the default; others may take a canary share of new
conversations (see helpdesk.llm.profiles). A conversation keeps the profile it was
assigned; every message records the profile that produced it, so profiles can
be compared side by side.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ModelProfile(models.Model):
    class ActionChoice(models.TextChoices):
        """How the model picks an action (conversations.actions.choice): DeepSeek-R1 on Ollama refuses `tools`,
        so structured outputs are the default; a tool-capable model may use Ollama's own tool calling."""

        FORMAT = "format", _("structured output (format)")
        TOOLS = "tools", _("tools")

    name = models.CharField(max_length=64, unique=True)
    model = models.CharField(
        "Ollama model tag", max_length=128, default="deepseek-r1:7b",
        help_text="As pulled on the nodes, e.g. deepseek-r1:7b or deepseek-r1:7b-qwen-distill-q4_K_M.",
    )
    temperature = models.FloatField(default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)])
    top_p = models.FloatField(default=0.9, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    num_predict = models.PositiveIntegerField(
        default=512, validators=[MinValueValidator(16), MaxValueValidator(32768)],
        help_text="Longest reply in tokens (the seed's max_tokens).",
    )
    num_ctx = models.PositiveIntegerField(
        default=4096, validators=[MinValueValidator(512), MaxValueValidator(131072)],
        help_text="Context window sent with every request (server defaults vary).",
    )
    think = models.BooleanField(default=True, help_text="Ask DeepSeek-R1 for its reasoning (kept from customers).")
    keep_alive = models.CharField(max_length=16, default="30m", help_text="How long Ollama keeps the model loaded.")
    system_prompt_en = models.TextField("system prompt (English)")
    system_prompt_zh = models.TextField("system prompt (简体中文)")
    handoff_threshold = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="A reply less confident than this hands the conversation to a human.",
    )
    action_choice = models.CharField(
        _("how actions are chosen"), max_length=16, choices=ActionChoice.choices, default=ActionChoice.FORMAT,
        help_text=_(
            "Structured output (format) works with every model, DeepSeek-R1 included. Tools uses Ollama's tool "
            "calling and needs a tool-capable model (e.g. qwen2.5, llama3.1); a model that refuses tools falls "
            "back to structured output."),
    )
    is_default = models.BooleanField("default", default=False)
    canary_share = models.FloatField(
        "canary share (%)", default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        help_text="Share of new conversations given to this profile instead of the default; 0 rolls it back.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_profile"),
            models.CheckConstraint(
                condition=Q(canary_share__gte=0) & Q(canary_share__lte=100), name="canary_share_is_a_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"

    def system_prompt(self, language: str) -> str:
        return self.system_prompt_zh if language == "zh-hans" and self.system_prompt_zh else self.system_prompt_en
