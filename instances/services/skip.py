"""Skips (SPEC §7): an open instance set aside by its owner, and back by the clock."""

from datetime import datetime, timedelta

from django.db import transaction

from accounts.timezones import local_today
from core.errors import Conflict
from core.rows import row_save
from instances.clock import status_by_clock
from instances.events import INSTANCE_SKIPPED, INSTANCE_UPDATED
from instances.models import OPEN_STATUSES, HabitInstance, SkipReason, Status
from instances.program import course_may_stretch
from instances.selectors import instance_locked_for_change
from instances.services.rearm import reminders_rearm
from instances.services.recorded import instance_change_record

FINAL_REFUSAL = "This instance is {status}; only an open instance can be skipped."


@transaction.atomic
def instance_skip(
    *,
    instance_id: int,
    user_id: int,
    reason: SkipReason = SkipReason.OTHER,
    note: str | None = None,
) -> HabitInstance:
    """Set the user's open instance aside. Skipping a skipped one changes nothing (so a
    second press, or a skip racing another, is harmless); a done or expired one: Conflict."""
    # A skip may finish the habit's course (its last open occurrence set aside): locked too.
    instance = instance_locked_for_change(instance_id=instance_id, user_id=user_id)
    if instance.status == Status.SKIPPED:
        return instance
    if instance.status not in OPEN_STATUSES:
        raise Conflict(FINAL_REFUSAL.format(status=instance.status))
    instance.status, instance.skip_reason = Status.SKIPPED, reason
    fields = ["status", "skip_reason", "updated_at"]
    if note is not None:
        instance.note = note
        fields.append("note")
    row_save(instance, fields)
    instance_change_record(
        INSTANCE_SKIPPED, instance, settling=True, refitting=_near_the_end(instance)
    )
    return instance


def _near_the_end(instance: HabitInstance) -> bool:
    """Whether its course's end may move across a day already planned (the habit's course
    fields and the owner's zone come with the locking read)."""
    tomorrow = local_today(instance.user.timezone) + timedelta(days=1)
    return course_may_stretch(instance.habit, tomorrow=tomorrow)


@transaction.atomic
def instance_unskip(*, instance_id: int, user_id: int, now: datetime) -> HabitInstance:
    """Back to the status the clock gives it now (an old day comes back expired). A pause
    still covering it keeps it skipped: Conflict, as for an instance not skipped."""
    # Back open, it may reopen a finished course: the habit is locked too.
    instance = instance_locked_for_change(instance_id=instance_id, user_id=user_id)
    if instance.status != Status.SKIPPED:
        raise Conflict("This instance is not skipped.")
    if instance.pause_id is not None:
        raise Conflict("A pause covers this instance; end the pause to bring it back.")
    instance.status = status_by_clock(
        instance.scheduled_at, instance.grace_deadline, instance.fix_deadline, now
    )
    instance.skip_reason = ""
    row_save(instance, ["status", "skip_reason", "updated_at"])
    reminders_rearm(instance_ids=[instance.pk], now=now)
    instance_change_record(
        INSTANCE_UPDATED, instance, settling=True, refitting=_near_the_end(instance)
    )
    return instance
