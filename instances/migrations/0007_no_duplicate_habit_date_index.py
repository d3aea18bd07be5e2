from django.db import migrations


class Migration(migrations.Migration):
    """`instance_habit_recent (habit, -date)` read what the unique `(habit, date)` reads (a
    B-tree is read backwards as well as forwards), and every row written paid for its entry:
    each insert, and each update of a status (the partial indexes make none of them HOT)."""

    dependencies = [("instances", "0006_source_import")]

    operations = [
        migrations.RemoveIndex(model_name="habitinstance", name="instance_habit_recent"),
    ]
