"""The conversations app's tables: the chat itself (chat), the evaluation of the bot's answers (evaluation) and
the dashboard's daily summaries (summaries)."""

from .apps import App
from .chat import Conversation, Customer, Feedback, LLMCall, Message, new_conversation_token
from .evaluation import EvalCase, EvalResult, EvalRun, EvalSet, EvalSuggestionDismissal, Expectation
from .moderation import ModerationAction, ModerationCategory, ModerationHit, ModerationTerm
from .privacy import PrivacyRequest
from .summaries import DailySummary

__all__ = [
    "App", "Conversation", "Customer", "DailySummary", "EvalCase", "EvalResult", "EvalRun", "EvalSet",
    "EvalSuggestionDismissal", "Expectation", "Feedback", "LLMCall", "Message", "ModerationAction",
    "ModerationCategory", "ModerationHit", "ModerationTerm", "PrivacyRequest", "new_conversation_token",
]
