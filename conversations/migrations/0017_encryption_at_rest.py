"""Encryption at rest of contact fields and message text (helpdesk.encryption): new hash and search-index columns,
the columns turned into encrypted text, every existing row encrypted (and, going back, decrypted)."""

from django.db import migrations

import helpdesk.encrypted_fields

MODELS = ("Customer", "Conversation", "Message")
# (model, field, options) of every column turned into encrypted text.
ENCRYPTED = [
    ("customer", "external_id", {"max_length": 255}),
    ("customer", "name", {"blank": True, "max_length": 255}),
    ("customer", "email", {"blank": True, "max_length": 254}),
    ("conversation", "contact_email", {"blank": True, "max_length": 254}),
    ("conversation", "contact_name", {"blank": True, "max_length": 255}),
    ("conversation", "csat_comment", {"blank": True}),
    ("message", "content", {"blank": True, "setting": "ENCRYPT_MESSAGES"}),
    ("message", "reasoning", {"blank": True, "setting": "ENCRYPT_MESSAGES"}),
]


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
        *(
            migrations.AlterField(
                model_name=model_name, name=name, field=helpdesk.encrypted_fields.EncryptedTextField(**options)
            )
            for model_name, name, options in ENCRYPTED
        ),
        migrations.RunPython(rows_encrypt, rows_decrypt),
        migrations.AlterField(
            model_name="customer",
            name="external_id_hash",
            field=helpdesk.encrypted_fields.LookupHashField(normalise="", source="external_id", unique=True),
        ),
    ]
