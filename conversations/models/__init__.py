"""The conversations app's tables: the chat itself (chat), the evaluation of the bot's answers (evaluation) and
the dashboard's daily summaries (summaries)."""

from .actions import Action, ActionCall
from .apps import App
from .chat import Conversation, Customer, Feedback, LLMCall, Message, new_conversation_token
from .evaluation import EvalCase, EvalResult, EvalRun, EvalSet, EvalSuggestionDismissal, Expectation
from .faq_suggestions import FAQSuggestion
from .handoffs import Handoff
from .moderation import ModerationAction, ModerationCategory, ModerationHit, ModerationTerm
from .outbound import DeliveryStatus, EmailDelivery, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .privacy import PrivacyRequest
from .summaries import DailySummary
from .teams import ConversationRule, Label, Priority, Team, TeamMembership

__all__ = [
    "Action",
    "ActionCall",
    "App",
    "Conversation",
    "ConversationRule",
    "Customer",
    "DailySummary",
    "DeliveryStatus",
    "EmailDelivery",
    "EvalCase",
    "EvalResult",
    "EvalRun",
    "EvalSet",
    "EvalSuggestionDismissal",
    "Expectation",
    "FAQSuggestion",
    "Feedback",
    "Handoff",
    "LLMCall",
    "Label",
    "Message",
    "ModerationAction",
    "ModerationCategory",
    "ModerationHit",
    "ModerationTerm",
    "Priority",
    "PrivacyRequest",
    "Team",
    "TeamMembership",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "new_conversation_token",
]
