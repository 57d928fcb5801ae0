"""Evaluation sets, their cases, runs of a set against a profile, and each case's result in a run.

A run copies what it needs of each case (key, question, expectation) into its results, so editing or deleting
a case later never changes what an old run said, and two runs compare case by case through the key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EvalSet(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # The set the promotion gate, the nightly run and "publish with evaluation" use.
    is_default = models.BooleanField("default set", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "evaluation set"

    def __str__(self) -> str:
        return self.name


class Expectation(models.TextChoices):
    ANSWER = "answer", "answered from the knowledge base"
    FAQ = "faq", "answered by an FAQ entry"
    DECLINE = "decline", "declined or handed off"
    PERSON = "person", "handed off: the customer asks for a person"


class EvalCase(models.Model):
    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="cases")
    # Stable within the set: import/export, and the per-case diff between runs, go by it.
    key = models.SlugField(max_length=64)
    question = models.TextField()
    # Earlier turns, oldest first: [{"role": "customer" | "bot" | "agent", "content": "..."}]
    history = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=16, choices=settings.LANGUAGES, default="en")
    expectation = models.CharField(max_length=16, choices=Expectation.choices, default=Expectation.ANSWER)
    # For "answer": any of these articles cited is right. For "faq": this entry answers.
    articles = models.ManyToManyField("knowledge.Article", blank=True, related_name="eval_cases")
    faq = models.ForeignKey("knowledge.FAQ", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Facts (a price, a phone number, a time span) the answer must contain, and ones it must not.
    must_include = models.JSONField(default=list, blank=True)
    must_not_include = models.JSONField(default=list, blank=True)
    # Kept apart: thresholds and rules are never tuned on these; reports show both parts.
    held_out = models.BooleanField(default=False)
    # The real message a curator accepted this case from (a thumbs-down reply, an agent's answer).
    suggested_from = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["eval_set", "key"]
        verbose_name = "evaluation case"
        constraints = [models.UniqueConstraint(fields=["eval_set", "key"], name="eval_case_key_unique_per_set")]

    def __str__(self) -> str:
        return f"{self.eval_set_id}/{self.key}"


class EvalRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Admin"
        COMMAND = "command", "Command line"
        NIGHTLY = "nightly", "Nightly"
        PUBLISH = "publish", "Knowledge published"

    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="runs")
    profile = models.ForeignKey(
        "helpdesk.ModelProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="eval_runs"
    )
    # Copied when the run starts: the profile may change or go later.
    profile_name = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=128, blank=True)
    handoff_threshold = models.FloatField(null=True, blank=True)
    # KnowledgeState.version: milliseconds since the epoch at least, beyond a 32-bit integer.
    knowledge_version = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    cases_total = models.PositiveIntegerField(default=0)
    cases_done = models.PositiveIntegerField(default=0)
    # The overall figures (see conversations.evaluation.metrics): for all cases and for each part.
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "evaluation run"

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.eval_set_id} with {self.profile_name or 'settings'}"


class EvalResult(models.Model):
    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(EvalCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="results")
    # Copied from the case when it ran.
    case_key = models.SlugField(max_length=64)
    question = models.TextField()
    expectation = models.CharField(max_length=16, choices=Expectation.choices)
    held_out = models.BooleanField(default=False)
    # What the pipeline did: [{"article_id", "title", "relevance"}] retrieved, best first; ids of those cited.
    retrieved = models.JSONField(default=list, blank=True)
    cited = models.JSONField(default=list, blank=True)
    answer = models.TextField(blank=True)
    answer_source = models.CharField(max_length=8, blank=True)
    intent = models.CharField(max_length=32, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    signals = models.JSONField(default=dict, blank=True)
    handoff_reason = models.CharField(max_length=32, blank=True)
    declined = models.BooleanField(default=False)
    unverified_facts = models.JSONField(default=list, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True)
    # Whether the expectation was met, and if not, why: ["cited no expected article", "missing: 48 hours"]
    passed = models.BooleanField(default=False)
    failures = models.JSONField(default=list, blank=True)
    # What the case asked when it ran (conversations.evaluation.judging.Expected): article ids, FAQ id, facts.
    expected = models.JSONField(default=dict, blank=True)
    # Whether the reply the bot gave (or would have, but for low confidence) was right; None when it gave none.
    # What the confidence AUC, the reliability table and the calibration are computed from.
    reply_correct = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "case_key"]
        verbose_name = "evaluation result"
        constraints = [models.UniqueConstraint(fields=["run", "case_key"], name="eval_result_one_per_case")]

    def __str__(self) -> str:
        return f"{self.case_key}: {'pass' if self.passed else 'fail'}"


class EvalSuggestionDismissal(models.Model):
    """A message a curator dismissed as a case suggestion (conversations.evaluation.suggestions): it is never
    suggested again."""

    message = models.OneToOneField("conversations.Message", on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "dismissed case suggestion"

    def __str__(self) -> str:
        return f"dismissed suggestion {self.message_id}"
