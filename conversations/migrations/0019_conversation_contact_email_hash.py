"""The keyed hash of a conversation's contact email, filled for the rows that have one: finding a customer's
anonymous conversations by email (an export or erasure request) while the address itself is encrypted."""

from django.db import migrations

import helpdesk.encrypted_fields


def hashes_fill(apps, schema_editor):
    conversation_model = apps.get_model("conversations", "Conversation")
    field = conversation_model._meta.get_field("contact_email_hash")
    rows = conversation_model.objects.exclude(contact_email="").only("pk", "contact_email")
    for conversation in rows.iterator(chunk_size=1000):
        conversation_model.objects.filter(pk=conversation.pk).update(
            contact_email_hash=field.hash_of(conversation.contact_email))


class Migration(migrations.Migration):

    dependencies = [
        ("conversations", "0018_privacy_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="contact_email_hash",
            field=helpdesk.encrypted_fields.LookupHashField(
                blank=True, db_index=True, default="", normalise="email", source="contact_email"),
        ),
        migrations.RunPython(hashes_fill, migrations.RunPython.noop),
    ]
