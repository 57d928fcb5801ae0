from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from helpdesk.privacy import DataSubject


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from helpdesk.privacy import PersonalDataStore, store_register
        from helpdesk.runtime.warmup import warmer_register

        warmer_register("knowledge snapshots", _snapshots_warm)
        # Chinese readings, for questions mistyped by their sound (knowledge.retrieval.coverage): loading them
        # takes a twentieth of a second, which no customer should wait for.
        warmer_register("pinyin readings", _pinyin_warm)
        # The answer cache holds answers keyed by customers' questions; no table of this app leads to a customer.
        store_register(PersonalDataStore(name="answer cache", erase=_answer_cache_erase))


def _answer_cache_erase(subject: DataSubject) -> int:
    from .cache import answer_cache_erase

    return answer_cache_erase(subject.customer_texts)


def _pinyin_warm() -> None:
    from .retrieval.coverage import pinyin_load

    pinyin_load()


def _snapshots_warm() -> None:
    from .retrieval.snapshot import snapshots_warm

    snapshots_warm()
