"""Handoff: one row per move of a conversation to the human queue (conversations.models.handoffs), and one row made
for each existing conversation that was handed off (its `handoff_at`: only the latest handoff was kept before).

The backfilled row takes what the conversation still says: its reason (cleared once the bot took it back), its
team and agent; the question is the one the last bot reply before the handoff answered (as the knowledge gaps
read it), else the last customer message before it; the first response is the first agent reply at or after it;
it ended resolved (at `resolved_at`) or handed back (at the conversation's last change) when the conversation is
no longer with people. One query for all of them, rows inserted in batches."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

BATCH = 1000


def handoffs_backfill(apps, schema_editor) -> None:
    Conversation = apps.get_model("conversations", "Conversation")
    Message = apps.get_model("conversations", "Message")
    Handoff = apps.get_model("conversations", "Handoff")
    before = Message.objects.filter(conversation_id=OuterRef("pk"), created_at__lte=OuterRef("handoff_at"))
    replied = before.filter(role="bot", reply_to__isnull=False).order_by("-created_at", "-pk").values("reply_to_id")
    asked = before.filter(role="customer").order_by("-created_at", "-pk").values("pk")
    first_reply = Message.objects.filter(conversation_id=OuterRef("pk"), role="agent", author__isnull=False,
                                         created_at__gte=OuterRef("handoff_at")).order_by("created_at", "pk")
    rows = (
        Conversation.objects.filter(handoff_at__isnull=False)
        .annotate(question=Coalesce(Subquery(replied[:1]), Subquery(asked[:1]), output_field=models.BigIntegerField()),
                  first_at=Subquery(first_reply.values("created_at")[:1]),
                  responder=Subquery(first_reply.values("author_id")[:1]))
        .order_by("pk")
        .values_list("pk", "status", "handoff_reason", "handoff_at", "team_id", "agent_id", "resolved_at",
                     "updated_at", "question", "first_at", "responder")
    )
    batch = []
    for (pk, status, reason, at, team_id, agent_id, resolved_at, updated_at, question_id, first_at,
         responder_id) in rows.iterator(chunk_size=BATCH):
        handoff = Handoff(conversation_id=pk, reason=reason, at=at, question_id=question_id, team_id=team_id,
                          first_response_at=first_at, responder_id=responder_id)
        if status in ("human", "resolved"):
            handoff.agent_id = agent_id
        if status == "resolved" and resolved_at is not None and resolved_at >= at:
            handoff.ended_at, handoff.outcome = resolved_at, "resolved"
        elif status in ("bot", "resolved"):
            handoff.ended_at, handoff.outcome = max(updated_at, at), "handed_back"
        batch.append(handoff)
        if len(batch) >= BATCH:
            Handoff.objects.bulk_create(batch)
            batch = []
    Handoff.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0030_message_search_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Handoff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(blank=True, choices=[('low_confidence', 'low confidence'), ('customer_request', 'customer asked'), ('no_knowledge', 'no knowledge'), ('model_error', 'model error'), ('negative_feedback', 'thumbs down'), ('rule', 'rule'), ('prompt_leak', 'reply withheld (leaked its instructions)'), ('unanswered', 'no reply in time'), ('unverified_fact', 'unverified number or link'), ('complaint', 'complaint'), ('unsupported_claim', 'claim its sources do not support'), ('moderation', 'moderation'), ('action_failed', "look-up in the company's system failed"), ('action_approval', "action awaits an agent's approval")], max_length=32)),
                ('at', models.DateTimeField(db_index=True)),
                ('first_response_at', models.DateTimeField(blank=True, null=True)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('outcome', models.CharField(blank=True, choices=[('handed_back', 'Handed back to the bot'), ('resolved', 'Resolved')], max_length=16)),
                ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('conversation', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='handoffs', to='conversations.conversation')),
                ('question', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='conversations.message')),
                ('responder', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='handoffs', to='conversations.team')),
            ],
            options={
                'ordering': ['-at', '-pk'],
                'indexes': [models.Index(fields=['conversation', 'at'], name='handoff_conversation_at')],
            },
        ),
        migrations.RunPython(handoffs_backfill, migrations.RunPython.noop, elidable=True),
    ]
