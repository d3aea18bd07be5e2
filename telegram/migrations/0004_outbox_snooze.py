from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('telegram', '0003_outbox_by_message'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxmessage',
            name='kind',
            field=models.CharField(choices=[('reminder', 'Reminder'), ('missed', 'Missed'), ('snooze', 'Snooze'), ('done', 'Done'), ('skipped', 'Skipped'), ('finished', 'Finished')], max_length=16),
        ),
    ]
