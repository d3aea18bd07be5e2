"""Re-arming the reminder offsets of open instances (SPEC §8): after the habit's offsets
change, or an instance comes back open (un-skipped, its pause deleted). From `now` on: an
offset whose moment has passed is not sent late, and the outbox's unique row per (instance,
offset) keeps one already owed from being owed again."""

from collections.abc import Iterable
from datetime import datetime

from core.bulk import column_set
from instances.models import OPEN_STATUSES, HabitInstance
from instances.reminders import reminder_next


def reminders_rearm(*, instance_ids: Iterable[int], now: datetime) -> None:
    rows = list(
        HabitInstance.objects.filter(pk__in=list(instance_ids), status__in=OPEN_STATUSES)
        .select_related("habit")
        .only("id", "scheduled_at", "next_reminder_at", "habit__reminders")
    )
    for instance in rows:
        instance.next_reminder_at = reminder_next(
            scheduled_at=instance.scheduled_at, reminders=instance.habit.reminders, after=now,
            strict=False,
        )  # fmt: skip
    column_set(HabitInstance, "next_reminder_at", {i.pk: i.next_reminder_at for i in rows})
