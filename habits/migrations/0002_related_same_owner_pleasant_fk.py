"""The database holds "a related habit is a pleasant habit of the same owner" too.

A composite foreign key (related_pleasant_habit_id, user_id, related_is_pleasant=true)
-> (id, user_id, is_pleasant) refuses a related habit of another user or a useful one, and
refuses turning a referenced pleasant habit useful. Django has no composite foreign keys, so
this is SQL; SQLite (the newcomer's default database) keeps the Django-level rule only.
"""

from django.db import migrations

ADD = """
ALTER TABLE habits_habit ADD CONSTRAINT habit_related_same_owner_pleasant
    FOREIGN KEY (related_pleasant_habit_id, user_id, related_is_pleasant)
    REFERENCES habits_habit (id, user_id, is_pleasant)
    ON UPDATE NO ACTION ON DELETE NO ACTION
"""
DROP = "ALTER TABLE habits_habit DROP CONSTRAINT habit_related_same_owner_pleasant"


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("habits", "0001_initial")]

    operations = [migrations.RunPython(add, drop)]
