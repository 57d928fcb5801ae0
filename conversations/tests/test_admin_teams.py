"""Teams in admin: members, intents, assignment, cap and SLA targets per priority, from one form."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from conversations.models import Team

pytestmark = pytest.mark.django_db


def test_a_team_is_made_with_members_intents_and_sla_targets_per_priority(staff_client) -> None:
    ann = get_user_model().objects.create_user("ann", password="pw")
    response = staff_client.post(reverse("admin:conversations_team_add"), {
        "name": "售后", "intents": ["complaint", "refund"], "assignment": "least_busy", "max_per_agent": "3",
        "sla_normal_first_response": "30", "sla_normal_resolution": "480", "sla_urgent_first_response": "5",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0", "memberships-0-agent": str(ann.pk),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    team = Team.objects.get(name="售后")
    assert team.intents == ["complaint", "refund"] and team.assignment == "least_busy" and team.max_per_agent == 3
    assert team.sla == {"normal": {"first_response": 30, "resolution": 480}, "urgent": {"first_response": 5}}
    assert list(team.members.all()) == [ann]
    page = staff_client.get(reverse("admin:conversations_team_change", args=[team.pk])).content.decode()
    assert 'name="sla_normal_resolution" value="480"' in page


def test_the_team_label_and_rule_pages_render(staff_client) -> None:
    for name in ("team", "label", "conversationrule"):
        assert staff_client.get(reverse(f"admin:conversations_{name}_changelist")).status_code == 200
        assert staff_client.get(reverse(f"admin:conversations_{name}_add")).status_code == 200


@pytest.mark.parametrize(("language", "words", "not_there"), [
    ("zh-hans", ["分配方式", "轮流分配", "分给最空闲的", "默认团队", "每位客服最多同时处理的会话数",
                 "普通：首次响应（工作时间分钟数）", "紧急：解决（工作时间分钟数）", "SLA 目标", "退款", "投诉",
                 "客户表现出其中任一意图"],
     ["Round robin", "first response (business minutes)", "SLA targets", "Handoffs whose customer"]),
    ("en", ["Round robin", "Least busy", "Normal: first response (business minutes)",
            "Urgent: resolution (business minutes)", "SLA targets", "refund", "most conversations per agent"],
     ["轮流分配", "首次响应"]),
])
def test_the_team_page_speaks_the_admins_language(staff_client, language, words, not_there) -> None:
    Team.objects.create(name="billing", intents=["refund"], is_default=True)
    headers = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh" if language == "zh-hans" else "en-US,en"}
    add = staff_client.get(reverse("admin:conversations_team_add"), **headers).content.decode()
    listing = staff_client.get(reverse("admin:conversations_team_changelist"), **headers).content.decode()
    page = add + listing
    assert [word for word in words if word not in page] == []
    assert [word for word in not_there if word in page] == []
