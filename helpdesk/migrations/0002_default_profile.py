"""The first default profile, from the LLM_* settings (the seed article's model.json)."""

from django.conf import settings
from django.db import migrations


def create_default(apps, schema_editor):
    ModelProfile = apps.get_model("helpdesk", "ModelProfile")
    if ModelProfile.objects.filter(is_default=True).exists():
        return
    ModelProfile.objects.create(
        name="default",
        model=settings.OLLAMA_CHAT_MODEL,
        temperature=settings.LLM_TEMPERATURE,
        top_p=settings.LLM_TOP_P,
        num_predict=settings.LLM_NUM_PREDICT,
        num_ctx=settings.LLM_NUM_CTX,
        think=settings.LLM_THINK,
        keep_alive=settings.OLLAMA_KEEP_ALIVE,
        system_prompt_en=settings.LLM_SYSTEM_PROMPT,
        system_prompt_zh=settings.LLM_SYSTEM_PROMPT_ZH,
        handoff_threshold=settings.HANDOFF_THRESHOLD,
        is_default=True,
    )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_model_profiles")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
