"""The one clock rule: which status an open instance has at a moment, and what completing it
then makes of it (SPEC §2). Written once here and given in the three forms its callers need:
a Python function (generation's portable path, re-timing, tests), an SQL fragment
(generation's INSERT ... SELECT) and an ORM expression (the sweep's conditional UPDATE).
tests/instances/test_clock.py checks all three against one table.

    now < scheduled_at                   scheduled
    scheduled_at <= now <= grace         pending      (done now: completed)
    grace < now <= fix                   missed       (done now: completed_late)
    fix < now                            fix_expired  (too late to do)
"""

from datetime import datetime, timedelta

from django.db.models import Case, Value, When

from instances.models import Status


def deadlines(at: datetime, *, grace_minutes: int, fix_minutes: int) -> tuple[datetime, datetime]:
    """(grace_deadline, fix_deadline) of an instance scheduled at `at`."""
    grace = at + timedelta(minutes=grace_minutes)
    return grace, grace + timedelta(minutes=fix_minutes)


def status_by_clock(at: datetime, grace: datetime, fix: datetime, now: datetime) -> Status:
    """The status an open instance has at `now`."""
    if now > fix:
        return Status.FIX_EXPIRED
    if now > grace:
        return Status.MISSED
    if now >= at:
        return Status.PENDING
    return Status.SCHEDULED


def completion_status(grace: datetime, fix: datetime, at: datetime) -> Status | None:
    """What completing an open instance at `at` makes of it; None when the fix window is over."""
    if at <= grace:
        return Status.COMPLETED
    if at <= fix:
        return Status.COMPLETED_LATE
    return None


def status_by_clock_sql(*, now: str, at: str, grace: str, fix: str) -> str:
    """`status_by_clock` as an SQL CASE over the given column names or parameters."""
    return (
        f"CASE WHEN {now} > {fix} THEN '{Status.FIX_EXPIRED}'"
        f" WHEN {now} > {grace} THEN '{Status.MISSED}'"
        f" WHEN {now} >= {at} THEN '{Status.PENDING}'"
        f" ELSE '{Status.SCHEDULED}' END"
    )


def status_by_clock_expression(now: datetime) -> Case:
    """`status_by_clock` at `now` over an instance row's own deadlines, for an UPDATE."""
    return Case(
        When(fix_deadline__lt=now, then=Value(Status.FIX_EXPIRED)),
        When(grace_deadline__lt=now, then=Value(Status.MISSED)),
        When(scheduled_at__lte=now, then=Value(Status.PENDING)),
        default=Value(Status.SCHEDULED),
    )
