from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from helpdesk.encrypted_fields import EncryptedTextField, LookupHashField, SearchIndexField

from ..protocol.codes import HandoffReason, Priority

WEB_CHANNEL = "web"


def new_conversation_token() -> str:
    """256 random bits, URL-safe: the token is the only key to a conversation."""
    return secrets.token_urlsafe(32)


class Customer(models.Model):
    """A logged-in user of the host site, as its signed identity names them (anonymous chats have none).

    Contact fields are encrypted at rest (helpdesk.encryption); the id and the email are found by their keyed
    hashes (conversations.selectors.customer_find), the id's hash carrying its uniqueness."""

    external_id = EncryptedTextField(max_length=255)
    external_id_hash = LookupHashField(source="external_id", unique=True)
    name = EncryptedTextField(max_length=255, blank=True)
    email = EncryptedTextField(max_length=254, blank=True)
    email_hash = LookupHashField(source="email", normalise="email", blank=True, default="", db_index=True)
    # What the host site's page sent beside the signed identity (`helpdeskSettings.user.attributes`: a plan, a
    # company…), as JSON: scalar values, bounded (conversations.services.identity.customer_attributes). The
    # signature does not cover them, so they are shown as unverified.
    attributes = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or self.external_id


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", "Bot"
        WAITING_HUMAN = "waiting_human", "Waiting for a human"
        HUMAN = "human", "Human"
        RESOLVED = "resolved", "Resolved"

    token = models.CharField(max_length=64, unique=True, default=new_conversation_token, editable=False)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOT, db_index=True)
    handoff_reason = models.CharField(max_length=32, blank=True, choices=HandoffReason.choices)
    # When the conversation last went to the human queue (the inbox sorts and times waiting by it).
    handoff_at = models.DateTimeField(null=True, blank=True)
    # The agent who has the conversation while it is `human` (one at a time).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Left by the customer outside working hours, so a colleague can write back.
    contact_email = EncryptedTextField(max_length=254, blank=True)
    # Its keyed hash, for finding a customer's anonymous conversations by email (conversations.privacy.subjects).
    contact_email_hash = LookupHashField(source="contact_email", normalise="email", blank=True, default="",
                                         db_index=True)
    # Given in the widget's pre-chat form (WIDGET_PRECHAT_FORM), optional like the email.
    contact_name = EncryptedTextField(max_length=255, blank=True)
    # The model profile this conversation was assigned (default or canary), kept for its whole life.
    profile = models.ForeignKey(
        "helpdesk.ModelProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    csat_score = models.PositiveSmallIntegerField("CSAT (1-5)", null=True, blank=True)
    csat_comment = EncryptedTextField(blank=True)
    # Made by an evaluation run (conversations.evaluation): never in the inbox, the figures or the answer cache.
    evaluation = models.BooleanField(default=False, db_index=True)
    # When the widget showed the privacy notice (WIDGET_PRIVACY_NOTICE_URL), and which one: its version and link.
    privacy_notice_shown_at = models.DateTimeField(null=True, blank=True)
    privacy_notice_version = models.CharField(max_length=64, blank=True)
    privacy_notice_url = models.CharField(max_length=500, blank=True)
    # Where the customer writes from: "web" (the widget) or "app:<name>" (conversations.appapi, models.App).
    channel = models.CharField(max_length=64, default=WEB_CHANNEL, db_index=True)
    # The team whose queue it went to at its handoff (conversations.services.assignment), its labels and priority
    # (set by agents or by rules), and its SLA clock: the due times of the first response and of the resolution
    # (business time, from the team's targets), and when an agent first answered after the handoff.
    team = models.ForeignKey("conversations.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="conversations")
    labels = models.ManyToManyField("conversations.Label", blank=True, related_name="conversations")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL, db_index=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Conversation {self.pk} ({self.status})"


class Message(models.Model):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        BOT = "bot", "Bot"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"
        NOTE = "note", "Private note"

    class Status(models.TextChoices):
        STREAMING = "streaming", "Streaming"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices, db_index=True)
    # Encrypted at rest while ENCRYPT_MESSAGES is on; then found by the keyed tokens of `search_index`
    # (conversations.selectors.search).
    content = EncryptedTextField(blank=True, setting="ENCRYPT_MESSAGES")
    search_index = SearchIndexField(source="content")
    # DeepSeek-R1's reasoning: kept for agents, never sent to the customer.
    reasoning = EncryptedTextField(blank=True, setting="ENCRYPT_MESSAGES")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE, db_index=True)
    # The agent who wrote an agent message or a private note.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # NULL, not "", for messages without one: the uniqueness constraint skips them.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # A bot reply points at the customer message it answers (one reply each).
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    class AnswerSource(models.TextChoices):
        LLM = "llm", "LLM"
        FAQ = "faq", "FAQ direct answer"
        CACHE = "cache", "Answer cache"
        DECLINED = "declined", "Declined: no source covers it"  # a fixed reply, no model (conversations.scope)
        ACTION = "action", "Action: sign in, confirm, or a failed look-up"  # a fixed reply (conversations.actions)

    # How a bot reply was produced; empty for other roles.
    answer_source = models.CharField(max_length=8, choices=AnswerSource.choices, blank=True, db_index=True)
    # Knowledge given to the model, numbered as in the prompt, each marked `cited` when the reply used it:
    # [{"n", "article_id", "chunk_id", "title", "url", "heading",
    #   "vector_score", "keyword_score", "fused_score", "cited"}]
    sources = models.JSONField(default=list, blank=True)
    # How the knowledge was looked up: query, knowledge-base version, keyword-only fallback, FAQ match.
    retrieval = models.JSONField(default=dict, blank=True)
    # How sure the bot was of this reply, and the signals that say so (see conversations.confidence).
    confidence = models.FloatField(null=True, blank=True)
    confidence_signals = models.JSONField(default=dict, blank=True)
    # The numbers, dates, phone numbers, addresses, links and order numbers of a generated reply that none of its
    # sources nor the customer's messages support (see conversations.verification): [{"kind", "text", "start", "end"}]
    unverified_facts = models.JSONField(default=list, blank=True)
    # A customer message's intent (conversations.intents.Intent) and who decided it ("rules", "model", or
    # "pipeline" for out_of_scope: no source covered it), and the
    # details it gives (conversations.entities): [{"kind", "text", "value"}]. Empty for other roles.
    intent = models.CharField(max_length=16, blank=True, db_index=True)
    intent_source = models.CharField(max_length=8, blank=True)
    entities = models.JSONField(default=list, blank=True)
    # The moderation categories a customer message or a bot reply hit (conversations.moderation), comma-joined:
    # the console marks it "flagged: <category>". Empty: none.
    flagged = models.CharField(max_length=64, blank=True)
    # The model profile in force when the message was written (compared per profile in the console).
    profile = models.ForeignKey(
        "helpdesk.ModelProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    model_name = models.CharField(max_length=128, blank=True)
    ollama_host = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    done_reason = models.CharField(max_length=32, blank=True)
    ttft_ms = models.FloatField("time to first token (ms)", null=True, blank=True)
    total_ms = models.FloatField("total time (ms)", null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    reply_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When the database stored it, by the database's own clock: what the sweeper measures a customer's wait
    # with (against the database's now()), since an app host's clock may step (NTP) between the two.
    stored_at = models.DateTimeField(db_default=Now(), editable=False)
    # A streaming bot reply: when its worker last wrote the partial text (every REPLY_SAVE_INTERVAL_S). A reply
    # whose heartbeat stopped lost its worker; the sweeper starts it over or hands the conversation on. By the
    # database's clock too.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Generation attempts of a bot reply; a worker writes only while the row still carries its own attempt.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_unique_per_conversation",
            ),
            models.UniqueConstraint(
                fields=["reply_to"],
                condition=Q(role="bot"),
                name="message_one_bot_reply_per_message",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "id"])]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}: {self.content[:40]}"


class LLMCall(models.Model):
    """One call to Ollama, written with the reply that it produced (bot_reply_finish, reply_abandon)."""

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey(Conversation, null=True, on_delete=models.SET_NULL, related_name="llm_calls")
    # One record per reply: a restarted reply, or a log_turn task of an earlier version, must not count a call twice.
    message = models.OneToOneField(Message, null=True, on_delete=models.SET_NULL, related_name="llm_call")
    profile = models.ForeignKey(
        "helpdesk.ModelProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="llm_calls"
    )
    model_name = models.CharField(max_length=128)
    ollama_host = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    error_kind = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    done_reason = models.CharField(max_length=32, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    reply_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "LLM call"

    def __str__(self) -> str:
        return f"{self.model_name} on {self.ollama_host}: {self.outcome}"


class Feedback(models.Model):
    """A customer's thumbs up or down on one bot reply (one per reply; a second vote replaces the first)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="feedback")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    rating = models.SmallIntegerField(choices=[(1, "👍"), (-1, "👎")])
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{'+' if self.rating > 0 else '-'}1 on message {self.message_id}"
