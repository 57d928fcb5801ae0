"""Every admin action and extra admin page asks for the permission its effect needs, not only for is_staff.

One test per action: a view-only staff user's request changes nothing, a user with the permission's does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from helpdesk.models import ModelProfile
from helpdesk.tests.factories import canary_profile, default_profile
from knowledge.models import FAQ, Article
from knowledge.tests.factories import article_create, faq_create

pytestmark = pytest.mark.django_db


def staff_with(client: Any, *codenames: str) -> Any:
    """`client` signed in as a staff user holding exactly these permissions ("app.codename")."""
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    for name in codenames:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client.force_login(user)
    return client


def _canary() -> int:
    default_profile()
    return canary_profile(share=20).pk


def _article(published: bool) -> Callable[[], int]:
    return lambda: article_create(title="Returns", body="Thirty days.", published=published, index=False).pk


def _article_failed() -> int:
    article = article_create(title="Returns", body="Thirty days.", index=False)
    Article.objects.filter(pk=article.pk).update(index_status="failed", index_error="boom")
    return article.pk


def _faq(published: bool) -> Callable[[], int]:
    return lambda: faq_create("Do you ship abroad?", "Not yet.", published=published, index=False).pk


def _term(enabled: bool) -> Callable[[], int]:
    from conversations.models import ModerationTerm

    return lambda: ModerationTerm.objects.create(text="诈骗链接", category="fraud", enabled=enabled).pk


def _term_enabled(pk: int) -> bool:
    from conversations.models import ModerationTerm

    return ModerationTerm.objects.get(pk=pk).enabled


# (model "app.model", action, make the object, whether the action took effect on it)
ACTIONS = [
    ("helpdesk.modelprofile", "make_default", _canary, lambda pk: ModelProfile.objects.get(pk=pk).is_default),
    ("helpdesk.modelprofile", "roll_back", _canary, lambda pk: ModelProfile.objects.get(pk=pk).canary_share == 0),
    ("knowledge.article", "publish", _article(False), lambda pk: Article.objects.get(pk=pk).status == "published"),
    ("knowledge.article", "unpublish", _article(True), lambda pk: Article.objects.get(pk=pk).status == "draft"),
    ("knowledge.article", "reindex", _article_failed, lambda pk: Article.objects.get(pk=pk).index_status == "pending"),
    ("knowledge.faq", "publish", _faq(False), lambda pk: FAQ.objects.get(pk=pk).published),
    ("knowledge.faq", "unpublish", _faq(True), lambda pk: not FAQ.objects.get(pk=pk).published),
    ("conversations.moderationterm", "enable", _term(False), _term_enabled),
    ("conversations.moderationterm", "disable", _term(True), lambda pk: not _term_enabled(pk)),
]


def _expired_attempt() -> int:
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    attempt = AccessAttempt.objects.create(username="mei", ip_address="192.0.2.1", user_agent="", http_accept="",
                                           path_info="/console/login/", get_data="", post_data="",
                                           failures_since_start=3)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - timedelta(days=1))
    return attempt.pk


def _gone(pk: int) -> bool:
    from axes.models import AccessAttempt

    return not AccessAttempt.objects.filter(pk=pk).exists()


ACTIONS.append(("axes.accessattempt", "cleanup_expired_attempts", _expired_attempt, _gone))


def _proposal() -> int:
    from conversations.models import Action, ActionCall, Conversation

    action = Action.objects.create(name="order_cancel", description="Cancel.", base_url="http://127.0.0.1:9",
                                   path_template="/cancel", read_only=False, requires_verified_identity=False,
                                   timeout_s=0.5)
    conversation = Conversation.objects.create(token="t-approve")
    return ActionCall.objects.create(action=action, action_name=action.name, conversation=conversation,
                                     status=ActionCall.Status.PROPOSED).pk


def _approved(pk: int) -> bool:
    from conversations.models import ActionCall

    return ActionCall.objects.get(pk=pk).status != ActionCall.Status.PROPOSED  # run (here: refused, nothing listens)


ACTIONS.append(("conversations.actioncall", "approve", _proposal, _approved))


def _endpoint() -> int:
    from conversations.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(name="crm", url="http://127.0.0.1:9/hook", secret="s" * 32,
                                          events=["conversation.resolved"], active=False).pk


def _test_event_queued(pk: int) -> bool:
    from conversations.models import WebhookDelivery

    return WebhookDelivery.objects.filter(endpoint_id=pk).exists()


ACTIONS.append(("conversations.webhookendpoint", "send_test_event", _endpoint, _test_event_queued))


_first_key_digests: dict[int, str] = {}


def _app() -> int:
    from conversations.services.apps import app_create

    app, _key = app_create(name="ios")
    _first_key_digests[app.pk] = app.key_hash
    return app.pk


def _app_revoked(pk: int) -> bool:
    from conversations.models import App

    return App.objects.get(pk=pk).revoked_at is not None


def _app_key_changed(pk: int) -> bool:
    from conversations.models import App

    return App.objects.get(pk=pk).key_hash != _first_key_digests[pk]


ACTIONS.append(("conversations.app", "revoke", _app, _app_revoked))
ACTIONS.append(("conversations.app", "new_key", _app, _app_key_changed))


def _synced_source() -> int:
    from knowledge.models import SyncedSource

    return SyncedSource.objects.create(name="help", url="https://shop.example/help").pk


def _fetch_queued(pk: int) -> bool:
    from knowledge.models import SyncedSource

    return SyncedSource.objects.get(pk=pk).status == SyncedSource.Status.QUEUED


def _held_page() -> int:
    from knowledge.models import SyncedPage, SyncedSource

    article = article_create(title="Returns", body="Thirty days, and VIPs sixty.", index=False)
    source = SyncedSource.objects.create(name="help", url="https://shop.example/help")
    return SyncedPage.objects.create(source=source, url=source.url, article=article, held=True,
                                     fetched_title="Returns", fetched_body="Forty-five days.").pk


def _fetched_text_taken(pk: int) -> bool:
    from knowledge.models import SyncedPage

    return SyncedPage.objects.select_related("article").get(pk=pk).article.body == "Forty-five days."


ACTIONS.append(("knowledge.syncedsource", "fetch_now", _synced_source, _fetch_queued))
ACTIONS.append(("knowledge.syncedpage", "take_fetched", _held_page, _fetched_text_taken))


def _suggestion() -> int:
    from conversations.models import Conversation, FAQSuggestion, Message

    conversation = Conversation.objects.create(status=Conversation.Status.RESOLVED)
    answer = Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content="Yes, for 5 CNY.")
    return FAQSuggestion.objects.create(question="Do you gift-wrap?", answer=answer.content, language="en",
                                        conversation=conversation, source_message=answer).pk


def _suggestion_status(pk: int) -> str:
    from conversations.models import FAQSuggestion

    return FAQSuggestion.objects.get(pk=pk).status


def _suggestion_published(pk: int) -> bool:
    return _suggestion_status(pk) == "published" and FAQ.objects.filter(question="Do you gift-wrap?").exists()


ACTIONS.append(("conversations.faqsuggestion", "publish", _suggestion, _suggestion_published))
ACTIONS.append(("conversations.faqsuggestion", "dismiss", _suggestion,
                lambda pk: _suggestion_status(pk) == "dismissed"))
# The permission each action needs beyond viewing (default: change).
NEEDS = {("axes.accessattempt", "cleanup_expired_attempts"): "delete"}
# Permissions on other models an action needs too: publishing a suggestion writes the FAQ.
ALSO_NEEDS = {("conversations.faqsuggestion", "publish"): ("knowledge.add_faq", "knowledge.change_faq")}


def _post_action(client: Any, model: str, action: str, pk: int) -> None:
    app_label, model_name = model.split(".")
    client.post(reverse(f"admin:{app_label}_{model_name}_changelist"), {"action": action, "_selected_action": [pk]})


@pytest.mark.parametrize("model, action, make, took_effect", ACTIONS, ids=[f"{m}.{a}" for m, a, *_ in ACTIONS])
def test_view_only_staff_cannot_run_the_action(client, model, action, make, took_effect) -> None:
    app_label, model_name = model.split(".")
    staff_with(client, f"{app_label}.view_{model_name}")
    pk = make()
    _post_action(client, model, action, pk)
    assert not took_effect(pk)


@pytest.mark.parametrize("model, action, make, took_effect", ACTIONS, ids=[f"{m}.{a}" for m, a, *_ in ACTIONS])
def test_staff_with_the_change_permission_can_run_the_action(client, model, action, make, took_effect) -> None:
    app_label, model_name = model.split(".")
    needs = NEEDS.get((model, action), "change")
    staff_with(client, f"{app_label}.view_{model_name}", f"{app_label}.{needs}_{model_name}",
               *ALSO_NEEDS.get((model, action), ()))
    pk = make()
    _post_action(client, model, action, pk)
    assert took_effect(pk)


@pytest.mark.parametrize(("model", "action"), list(ALSO_NEEDS), ids=[f"{m}.{a}" for m, a in ALSO_NEEDS])
def test_the_models_own_change_permission_is_not_enough_where_the_action_writes_another(client, model,
                                                                                         action) -> None:
    app_label, model_name = model.split(".")
    staff_with(client, f"{app_label}.view_{model_name}", f"{app_label}.change_{model_name}")
    make, took_effect = next((m, t) for name, a, m, t in ACTIONS if (name, a) == (model, action))
    pk = make()
    _post_action(client, model, action, pk)
    assert not took_effect(pk)


# Actions that open an intermediate page (nothing happens until it is sent), tested with their page there.
TESTED_ELSEWHERE = {
    ("conversations.evalset", "run_evaluation"),  # conversations/tests/test_evaluation_admin.py
    # conversations/tests/test_privacy.py: an export downloads, an erasure asks for confirmation first
    ("conversations.customer", "export_personal_data"),
    ("conversations.customer", "erase_personal_data"),
    ("conversations.conversation", "export_personal_data"),
    ("conversations.conversation", "erase_personal_data"),
}


def test_every_admin_action_declares_the_permissions_it_needs() -> None:
    """A new action without `permissions=[...]` would be open to every staff user who can see the list."""
    tested = {(model, action) for model, action, *_ in ACTIONS} | TESTED_ELSEWHERE
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.actions or ():
            function = getattr(model_admin, action) if isinstance(action, str) else action
            name = f"{model._meta.app_label}.{model._meta.model_name}"
            assert getattr(function, "allowed_permissions", None), f"{name}.{function.__name__} has no permissions"
            assert (name, function.__name__) in tested, f"{name}.{function.__name__} has no test here"


# --- the extra admin pages ----------------------------------------------------------------------------------

def test_the_import_page_needs_the_add_permission(client) -> None:
    url = reverse("admin:knowledge_article_import")
    assert staff_with(client, "knowledge.view_article").get(url).status_code == 403
    client.logout()
    get_user_model().objects.all().delete()
    assert staff_with(client, "knowledge.view_article", "knowledge.add_article").get(url).status_code == 200


@pytest.mark.parametrize("page", ["admin:knowledge_article_import_job", "admin:knowledge_article_import_status"])
def test_an_imports_progress_needs_the_add_or_the_import_job_view_permission(client, page) -> None:
    from knowledge.models import ImportJob

    job = ImportJob.objects.create(total=0)
    url = reverse(page, args=[job.pk])
    assert staff_with(client, "knowledge.view_faq").get(url).status_code == 403
    client.logout()
    get_user_model().objects.all().delete()
    assert staff_with(client, "knowledge.view_importjob").get(url).status_code == 200


def test_the_test_retrieval_page_needs_the_article_view_permission(client) -> None:
    url = reverse("admin:knowledge_article_test_retrieval")
    assert staff_with(client, "knowledge.view_faq").get(url).status_code == 403
    client.logout()
    get_user_model().objects.all().delete()
    assert staff_with(client, "knowledge.view_article").get(url).status_code == 200


@pytest.mark.parametrize("page", ["admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"])
def test_a_totp_devices_secret_needs_the_change_permission(client, page) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    owner = get_user_model().objects.create_user("owner")
    device = TOTPDevice.objects.create(user=owner, name="phone")
    url = reverse(page, args=[device.pk])
    assert staff_with(client, "otp_totp.view_totpdevice").get(url).status_code == 403
    change_page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in change_page
    client.logout()
    get_user_model().objects.exclude(pk=owner.pk).delete()
    assert staff_with(client, "otp_totp.view_totpdevice", "otp_totp.change_totpdevice").get(url).status_code == 200
