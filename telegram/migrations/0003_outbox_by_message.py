from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telegram", "0002_outbox_skipped_and_finished"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("message_id__isnull", False)),
                fields=["telegram_id", "message_id"],
                name="outbox_by_message",
            ),
        ),
    ]
