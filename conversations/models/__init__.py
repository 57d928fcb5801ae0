"""The conversations app's tables: the chat itself (chat) and the evaluation of the bot's answers (evaluation)."""

from .chat import Conversation, Customer, Feedback, LLMCall, Message, new_conversation_token
from .evaluation import EvalCase, EvalResult, EvalRun, EvalSet, EvalSuggestionDismissal, Expectation
from .moderation import ModerationAction, ModerationCategory, ModerationHit, ModerationTerm
from .privacy import PrivacyRequest

__all__ = [
    "Conversation", "Customer", "EvalCase", "EvalResult", "EvalRun", "EvalSet", "EvalSuggestionDismissal",
    "Expectation", "Feedback", "LLMCall", "Message", "ModerationAction", "ModerationCategory", "ModerationHit",
    "ModerationTerm", "PrivacyRequest", "new_conversation_token",
]
