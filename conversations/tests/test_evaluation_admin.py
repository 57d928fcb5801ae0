"""Evaluation sets, cases and runs in admin: pages, import/export, running a set, suggestions, permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations.models import EvalCase, EvalRun, Feedback

from .evaluation_factories import eval_case_factory, eval_run_factory, eval_set_factory
from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def _clerk(client, *codenames: str):
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="conversations", codename=codename))
    client.force_login(user)
    return client


def test_sets_cases_and_runs_pages_render(staff_client) -> None:
    eval_set = eval_set_factory("shop", is_default=True)
    eval_case_factory(eval_set, "delivery", "多久能到货?", language="zh-hans")
    run = eval_run_factory(eval_set, None, pass_rate=0.75)
    for url in (reverse("admin:conversations_evalset_changelist"), reverse("admin:conversations_evalcase_changelist")
                + f"?eval_set__id__exact={eval_set.pk}&expectation__exact=answer&held_out__exact=0",
                reverse("admin:conversations_evalrun_changelist"),
                reverse("admin:conversations_evalset_change", args=[eval_set.pk]),
                reverse("admin:conversations_evalcase_add")):
        assert staff_client.get(url).status_code == 200, url
    cases = staff_client.get(reverse("admin:conversations_evalcase_changelist") + "?q=到货").content.decode()
    assert "多久能到货?" in cases
    runs = staff_client.get(reverse("admin:conversations_evalrun_changelist")).content.decode()
    assert "20/20" in runs and "75 %" in runs
    change = staff_client.get(reverse("admin:conversations_evalset_change", args=[eval_set.pk]))
    assert "no gate" in change.content.decode() and run.pk


def test_a_run_page_is_read_only_and_links_to_the_console_report(staff_client) -> None:
    eval_set = eval_set_factory("shop")
    older = eval_run_factory(eval_set, None)
    newer = eval_run_factory(eval_set, None)
    page = staff_client.get(reverse("admin:conversations_evalrun_change", args=[newer.pk])).content.decode()
    assert f"/console/evaluation/?run={older.pk}&amp;run={newer.pk}" in page
    assert staff_client.get(reverse("admin:conversations_evalrun_add")).status_code == 403


def test_a_view_only_user_cannot_import_or_run(client) -> None:
    eval_set = eval_set_factory("shop")
    _clerk(client, "view_evalset", "view_evalcase", "view_evalrun")
    assert client.get(reverse("admin:conversations_evalset_import", args=[eval_set.pk])).status_code == 403
    assert client.get(reverse("admin:conversations_evalset_run") + f"?ids={eval_set.pk}").status_code == 403
    changelist = client.get(reverse("admin:conversations_evalset_changelist")).content.decode()
    assert "run_evaluation" not in changelist
    page = client.get(reverse("admin:conversations_evalset_change", args=[eval_set.pk])).content.decode()
    assert "Import cases" not in page and "Export JSONL" in page


def test_a_view_only_user_cannot_accept_suggestions(client) -> None:
    _clerk(client, "view_evalset", "view_evalcase")
    assert client.get(reverse("admin:conversations_evalset_suggestions")).status_code == 200
    assert client.post(reverse("admin:conversations_evalset_suggestions"), {"message": ["1"]}).status_code == 403


def test_the_run_action_asks_for_a_profile_first(staff_client) -> None:
    eval_set = eval_set_factory("shop")
    response = staff_client.post(reverse("admin:conversations_evalset_changelist"), {
        "action": "run_evaluation", "_selected_action": [eval_set.pk]}, follow=True)
    page = response.content.decode()
    assert "The default profile" in page and 'name="ids"' in page and "shop" in page
    assert not EvalRun.objects.exists()


def test_running_a_set_queues_a_run(staff_client) -> None:
    eval_set = eval_set_factory("shop")
    eval_case_factory(eval_set, "delivery")
    staff_client.post(reverse("admin:conversations_evalset_run"), {"ids": str(eval_set.pk), "profile": ""})
    run = EvalRun.objects.get()
    assert run.eval_set == eval_set and run.trigger == "manual" and run.requested_by == staff_client.user


def test_importing_shows_each_bad_line(staff_client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    eval_set = eval_set_factory("shop")
    data = (b'{"key": "delivery", "question": "How long is delivery?", "expectation": "decline"}\n'
            b"not json at all\n")
    response = staff_client.post(reverse("admin:conversations_evalset_import", args=[eval_set.pk]), {
        "file": SimpleUploadedFile("cases.jsonl", data), "fmt": "jsonl"})
    assert "line 2" in response.content.decode() and "eval-import-errors" in response.content.decode()
    assert not EvalCase.objects.filter(eval_set=eval_set).exists()  # all or nothing: fix the file, import again


def test_exporting_downloads_the_cases(staff_client) -> None:
    eval_set = eval_set_factory("shop")
    eval_case_factory(eval_set, "delivery", "多久能到货?")
    response = staff_client.get(reverse("admin:conversations_evalset_export", args=[eval_set.pk]) + "?fmt=csv")
    assert response["Content-Disposition"] == 'attachment; filename="shop.csv"'
    assert "多久能到货?" in response.content.decode()


def test_suggestions_page_lists_and_accepts_into_a_set(staff_client) -> None:
    eval_set = eval_set_factory("shop")
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Can I change my delivery address?")
    reply = bot_message_factory(conversation, "No, never.", reply_to=question)
    Feedback.objects.create(conversation=conversation, message=reply, rating=-1)
    url = reverse("admin:conversations_evalset_suggestions")
    page = staff_client.get(url).content.decode()
    assert "Can I change my delivery address?" in page and "thumbs down" in page and "No, never." in page
    staff_client.post(url, {"message": [reply.pk], "eval_set": eval_set.pk, "do": "accept"})
    case = EvalCase.objects.get(eval_set=eval_set)
    assert case.suggested_from_id == reply.pk and case.question == "Can I change my delivery address?"
    assert "Can I change my delivery address?" not in staff_client.get(url).content.decode()


def test_dismissing_from_the_suggestions_page(staff_client) -> None:
    conversation = conversation_factory()
    reply = bot_message_factory(conversation, "Nope.", reply_to=customer_message_factory(conversation, "Gift wrap?"))
    Feedback.objects.create(conversation=conversation, message=reply, rating=-1)
    url = reverse("admin:conversations_evalset_suggestions")
    staff_client.post(url, {"message": [reply.pk], "do": "dismiss"})
    assert "Gift wrap?" not in staff_client.get(url).content.decode()


def test_the_run_action_and_page_need_the_permission_to_add_runs(client) -> None:
    eval_set = eval_set_factory("shop")
    _clerk(client, "view_evalset")
    client.post(reverse("admin:conversations_evalset_changelist"), {
        "action": "run_evaluation", "_selected_action": [eval_set.pk]})
    assert client.post(reverse("admin:conversations_evalset_run"), {"ids": str(eval_set.pk)}).status_code == 403
    assert not EvalRun.objects.exists()
    client.user = get_user_model().objects.get(username="clerk")
    client.user.user_permissions.add(Permission.objects.get(codename="add_evalrun"))
    response = client.post(reverse("admin:conversations_evalset_changelist"), {
        "action": "run_evaluation", "_selected_action": [eval_set.pk]}, follow=True)
    assert response.status_code == 200 and 'name="profile"' in response.content.decode()
