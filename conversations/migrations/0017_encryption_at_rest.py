"""Encryption at rest of contact fields and message text (helpdesk.encryption): new hash and search-index columns,
the columns turned into encrypted text, every existing row encrypted (and, going back, decrypted)."""

from django.db import migrations

import helpdesk.encrypted_fields

MODELS = ("Customer", "Conversation", "Message")


def rows_encrypt(apps, schema_editor):
    for name in MODELS:
        helpdesk.encrypted_fields.model_reencrypt(apps.get_model("conversations", name))


def rows_decrypt(apps, schema_editor):
    for name in MODELS:
        helpdesk.encrypted_fields.model_reencrypt(apps.get_model("conversations", name), clear=True)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0016_answer_source_declined"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="external_id_hash",
            field=helpdesk.encrypted_fields.LookupHashField(null=True, normalise="", source="external_id"),
        ),
        migrations.AddField(
            model_name="customer",
            name="email_hash",
            field=helpdesk.encrypted_fields.LookupHashField(
                blank=True, db_index=True, default="", normalise="email", source="email"
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="search_index",
            field=helpdesk.encrypted_fields.SearchIndexField(source="content"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="external_id",
            field=helpdesk.encrypted_fields.EncryptedTextField(max_length=255),
        ),
        migrations.AlterField(
            model_name="customer",
            name="name",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True, max_length=255),
        ),
        migrations.AlterField(
            model_name="customer",
            name="email",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="contact_email",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="contact_name",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True, max_length=255),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="csat_comment",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="message",
            name="content",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True, setting="ENCRYPT_MESSAGES"),
        ),
        migrations.AlterField(
            model_name="message",
            name="reasoning",
            field=helpdesk.encrypted_fields.EncryptedTextField(blank=True, setting="ENCRYPT_MESSAGES"),
        ),
        migrations.RunPython(rows_encrypt, rows_decrypt),
        migrations.AlterField(
            model_name="customer",
            name="external_id_hash",
            field=helpdesk.encrypted_fields.LookupHashField(normalise="", source="external_id", unique=True),
        ),
    ]
