"""The steps a bot reply and an agent's draft share: the dialogue, what the knowledge base offers, the prompt."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from helpdesk.llm import ollama as gateway
from helpdesk.llm import profiles
from helpdesk.llm.text import language_of
from helpdesk.models import ModelProfile
from knowledge.retrieval.search import Hit
from knowledge.selectors import Grounding, knowledge_lookup

from .. import scope
from ..models import Conversation, Message
from ..moderation.lists import cached_answer_blocked
from ..privacy.masking import Masker, masker_for
from ..prompting import grounded_prompt, profile_cache_key, system_prompt_for
from ..selectors.messages import customer_details
from ..selectors.replies import dialogue_before, dialogue_ending_with


@dataclass
class Preparation:
    """One question made ready for an answer: an FAQ entry or cached answer may already be in `grounding`."""

    profile: ModelProfile
    options: gateway.ChatOptions
    question: str  # the customer's unanswered messages, as one (as written: the agents' and verification's)
    earlier: list[Message]  # the dialogue before them
    first_turn: bool  # the question is the conversation's very first message
    system_prompt: str
    cache_profile: str  # the answer cache's profile part (see prompting.profile_key)
    grounding: Grounding  # its search hits are those that bear on the question (conversations.scope)
    entities: list[dict] = field(default_factory=list)  # the details the customer gave (conversations.entities)
    customer_message: Message | None = None  # the message being answered (its intent may be refined)
    set_aside: list[Hit] = field(default_factory=list)  # hits found but not relevant enough to be given
    # The conversation's placeholders for personal data (conversations.privacy.masking): what the model, the
    # embeddings and the answer cache get is masked with it, what the model writes restored with it.
    masker: Masker = field(default_factory=lambda: Masker(enabled=False))
    # An action's result (conversations.actions), given to the model as source [1] before the knowledge base's.
    action_sources: list[tuple[Hit, str]] = field(default_factory=list)

    @property
    def model_question(self) -> str:
        """The question as the model, the search and the answer cache see it: personal data masked."""
        return self.masker.mask(self.question)

    @property
    def has_sources(self) -> bool:
        return bool(self.grounding.result and self.grounding.result.hits)

    @property
    def language(self) -> str:
        return language_of(self.question)

    def prompt(self) -> tuple[list[dict], list[tuple[Hit, str]]]:
        """The chat messages to generate an answer with, and the numbered sources fitted into them."""
        return grounded_prompt(
            question=self.model_question, earlier=self.earlier, grounding=self.grounding, options=self.options,
            system_prompt=self.system_prompt, entities=self.masker.entities_mask(self.entities),
            mask=self.masker.mask, first_hits=[hit for hit, _ in self.action_sources],
        )


def reply_prepare(
    *, conversation: Conversation, up_to_message_id: int, profile: ModelProfile, read: Message | None = None,
) -> Preparation:
    """Everything before generation, the same for the bot's replies and the agents' drafts, so that a draft
    is grounded exactly as the bot's own reply would be. `read`: the message `up_to_message_id` as the caller
    already read it (the reply task's claim did), not read again."""
    options = profiles.chat_options(profile)
    if read is not None and read.pk == up_to_message_id:
        turns = dialogue_ending_with(message=read)
    else:
        turns = dialogue_before(conversation=conversation, up_to_message_id=up_to_message_id)
    question, previous_question, earlier = dialogue_split(turns)
    # Every turn masked oldest first, so the same value has the same placeholder in all of them.
    masker = masker_for([turn.content for turn in turns])
    language = language_of(question)
    system_prompt = system_prompt_for(profile, language)
    cache_profile = profile_cache_key(profile, question=question)
    previous_answer = _answer_before(earlier)
    lookup = {"question": masker.mask(question), "previous_question": masker.mask(previous_question),
              "previous_answer": masker.mask(previous_answer), "has_history": bool(earlier), "profile": cache_profile,
              "limit": scope.CANDIDATES_PER_SOURCE * settings.RETRIEVAL_TOP_K}
    grounding = knowledge_lookup(**lookup, use_cache=not conversation.evaluation)
    if cached_answer_blocked(grounding):  # cached before one of its terms was listed: looked up afresh
        grounding = knowledge_lookup(**lookup, use_cache=False)
    set_aside: list[Hit] = []
    if grounding.result is not None:
        grounding.result.hits, set_aside = scope.sources_relevant(
            grounding.result.hits, limit=settings.RETRIEVAL_TOP_K, language=language, question=masker.mask(question),
            previous_question=masker.mask(previous_question) if earlier else "",
        )
    return Preparation(
        profile=profile, options=options, question=question, earlier=earlier, first_turn=len(turns) == 1,
        system_prompt=system_prompt, cache_profile=cache_profile, grounding=grounding, set_aside=set_aside,
        entities=customer_details(turns)["entities"],
        customer_message=next((turn for turn in reversed(turns) if turn.role == Message.Role.CUSTOMER), None),
        masker=masker,
    )


def _answer_before(earlier: list[Message]) -> str:
    """The last answer before the question, the bot's or an agent's: what a follow-up goes on about. Not a fixed
    reply (a decline, an action's request to sign in or confirm): its words are the product's, and would make a
    follow-up go on about whichever article shares them ("orders, delivery, returns, payment")."""
    last = earlier[-1] if earlier else None
    if last is None or last.role == Message.Role.CUSTOMER or last.answer_source in FIXED_REPLIES:
        return ""
    return last.content


FIXED_REPLIES = (Message.AnswerSource.DECLINED, Message.AnswerSource.ACTION)


def dialogue_split(turns: list[Message]) -> tuple[str, str, list[Message]]:
    """(the customer's unanswered messages as one question, the customer's previous question, earlier turns)."""
    cut = len(turns)
    while cut and turns[cut - 1].role == Message.Role.CUSTOMER:
        cut -= 1
    question = "\n".join(turn.content for turn in turns[cut:])
    earlier = turns[:cut]
    previous = next((turn.content for turn in reversed(earlier) if turn.role == Message.Role.CUSTOMER), "")
    return question, previous, earlier
