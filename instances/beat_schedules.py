"""The periodic tasks beat runs, stored in the database and editable in the admin (every
app's, named by task name only, so this module imports none of them).

Beat runs in UTC; every local-time rule lives in the task code.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int
    description: str


SCHEDULES = (
    Schedule("Generate habit instances", "instances.generate", 300,
             "Creates instances for every user's current and next local date."),
    Schedule("Sweep instance deadlines", "instances.sweep", 30,
             "Moves due instances to pending, missed or fix_expired (within 60 s of the moment)."),
    # Also queued after each sweep that moved instances; this run makes up for a lost one.
    Schedule("Decide Telegram messages", "telegram.decide", 30,
             "Owes the reminders and 'fix it' notes of instances that became pending or missed."),
    # Also queued after each change that owed deliveries; this run sends the retries that fell
    # due and takes over the deliveries of a worker that died mid-way.
    Schedule("Send webhook deliveries", "webhooks.send", settings.WEBHOOK_SWEEP_SECONDS,
             "Sends the due webhook deliveries (retries, and those a lost worker held)."),
)  # fmt: skip


@transaction.atomic
def schedules_install() -> list[PeriodicTask]:
    """Create each schedule once; leave an existing row's timing alone (the admin owns it)."""
    installed = []
    for schedule in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_seconds, period=IntervalSchedule.SECONDS
        )
        task, created = PeriodicTask.objects.select_for_update().get_or_create(
            name=schedule.name,
            defaults={
                "task": schedule.task,
                "interval": interval,
                "description": schedule.description,
                # A sweep that waited longer than its period is stale: the next one covers it.
                "expire_seconds": schedule.every_seconds,
            },
        )
        if not created and task.task != schedule.task:
            task.task = schedule.task
            task.save(update_fields=["task"])
        installed.append(task)
    return installed
