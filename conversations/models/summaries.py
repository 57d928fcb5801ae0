"""The dashboard's history: one row of figures per local day, which outlives the rows it was counted from."""

from __future__ import annotations

from django.db import models


class DailySummary(models.Model):
    """What happened on one local day (settings.TIME_ZONE), counted by conversations.stats.summaries.

    Counts only, never text or ids: retention and erasure delete the conversations and messages, and the
    dashboard reads past days from here. Day totals are columns (for admin and SQL); `hourly` holds the same
    measures per hour of the day (lists from `start`, one entry an hour) so hour-sized dashboard buckets can be
    rebuilt, `latency` the hours' reply times (at most SUMMARY_LATENCY_SAMPLES an hour) for percentiles, and
    `profiles` each model profile's day (conversations.stats.profiles) for the profiles compared, and
    `channels` each channel's `hourly` and `latency` (conversations.stats.daily.channel_figures) for the
    dashboard's channel breakdown and filter; None on a day summarized before channels were counted and
    final before the fill could split it (the dashboard says so rather than guess how that day split).
    A day is `final` once retention deleted from it: it is never counted again, since what is left would
    undercount it."""

    day = models.DateField(unique=True)
    start = models.DateTimeField(help_text="the day's local midnight")
    hours = models.PositiveSmallIntegerField(default=24, help_text="23 or 25 on a daylight-saving change")
    conversations = models.PositiveIntegerField(default=0)
    customer_messages = models.PositiveIntegerField(default=0)
    bot_replies = models.PositiveIntegerField(default=0)
    handed_off = models.PositiveIntegerField(default=0)
    handoffs_by_reason = models.JSONField(default=dict, blank=True)
    resolved_by_bot = models.PositiveIntegerField(default=0)
    resolved_with_human = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    feedback_up = models.PositiveIntegerField(default=0)
    feedback_down = models.PositiveIntegerField(default=0)
    answers_by_source = models.JSONField(default=dict, blank=True)
    ttft_p50 = models.FloatField(null=True, blank=True)
    ttft_p95 = models.FloatField(null=True, blank=True)
    hourly = models.JSONField(default=dict, blank=True)
    latency = models.JSONField(default=dict, blank=True)
    # Each model profile's figures of the day, for the profiles compared ("none": conversations without one).
    profiles = models.JSONField(default=dict, blank=True)
    # Each channel's hourly measures and reply times ({"web": {"hourly": ..., "latency": ...}}); None: not counted.
    channels = models.JSONField(null=True, blank=True, default=None)
    filled_at = models.DateTimeField()
    final = models.BooleanField(default=False)

    class Meta:
        ordering = ["-day"]
        verbose_name_plural = "daily summaries"

    def __str__(self) -> str:
        return f"{self.day}: {self.conversations} conversations"
