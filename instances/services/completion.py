"""Completion: one locking read, the clock decides, one conditional write."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from accounts.timezones import local_today
from core.errors import Conflict
from core.rows import row_save
from instances.clock import completion_status
from instances.events import INSTANCE_COMPLETED, INSTANCE_UPDATED
from instances.models import DONE_STATUSES, HabitInstance, Source, Status
from instances.selectors import instance_locked_for_change
from instances.services.recorded import instance_change_record

SKIPPED_REFUSAL = "This instance is skipped; un-skip it first to mark it done."


@dataclass(frozen=True)
class _Outcome:
    instance: HabitInstance
    refusal: str | None = None


@transaction.atomic
def _complete_locked(*, instance_id: int, user_id: int, at: datetime, source: Source) -> _Outcome:
    # The owner is part of the locking read: a caller needs no lookup of its own first (one
    # query fewer before the commit, the frame and the answer). The habit is locked with it:
    # a done or expired occurrence may finish its course (instances/services/program.py).
    instance = instance_locked_for_change(instance_id=instance_id, user_id=user_id)
    if instance.status in DONE_STATUSES:
        return _Outcome(instance)
    if instance.status == Status.FIX_EXPIRED:
        return _Outcome(instance, "The fix window of this instance has closed.")
    if instance.status == Status.SKIPPED:  # a skip won the race, or an old reminder's button
        return _Outcome(instance, SKIPPED_REFUSAL)
    if instance.date > local_today(instance.user.timezone, at):
        return _Outcome(instance, "This instance is on a future date; it cannot be done yet.")
    status = completion_status(instance.grace_deadline, instance.fix_deadline, at)
    if status is None:
        instance.status = Status.FIX_EXPIRED
        refusal = "The fix window of this instance has closed."
    else:
        instance.status, instance.completed_at, instance.source = status, at, source
        refusal = None
    row_save(instance, ["status", "completed_at", "source", "updated_at"])
    # Completed: the reaction table also says "done" in its Telegram reminders, in this
    # transaction (config/reactions.py).
    instance_change_record(
        INSTANCE_UPDATED if refusal else INSTANCE_COMPLETED, instance, settling=True
    )
    return _Outcome(instance, refusal)


def instance_complete(
    *, instance_id: int, user_id: int, at: datetime, source: Source
) -> HabitInstance:
    """Mark the user's instance done at `at`; the clock decides completed / completed_late.
    Safe to call twice.

    Too late: the instance becomes fix_expired (committed) and the call is refused (409).
    NotFound when the user has no such instance.
    """
    outcome = _complete_locked(instance_id=instance_id, user_id=user_id, at=at, source=source)
    if outcome.refusal:
        raise Conflict(outcome.refusal)
    return outcome.instance
