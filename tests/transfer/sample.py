"""One account with a bit of everything an export carries, built the same way on any database
(tests/transfer/test_export_sqlite.py builds it in PostgreSQL and in a SQLite file)."""

from datetime import UTC, datetime, time, timedelta

from accounts.models import User
from accounts.timezones import local_today
from instances.models import Pause, SkipReason, Source, Status
from tests.factories import HabitFactory, PleasantHabitFactory, UserFactory, make_instance

HISTORY = (
    Status.COMPLETED, Status.COMPLETED_LATE, Status.MISSED, Status.FIX_EXPIRED,
    Status.SKIPPED, Status.COMPLETED, Status.PENDING,
)  # fmt: skip


def build_account(email: str) -> User:
    """A user in UTC with quiet hours, a pleasant habit rewarding and cueing a useful one, a
    week of the useful one's history (every status, notes, a pause's skip, instants with
    microseconds) ending today, and an ended pause."""
    user = UserFactory(email=email, timezone="UTC", quiet_start=time(23), quiet_end=time(6))
    today = local_today("UTC")
    first = today - timedelta(days=len(HISTORY) - 1)
    tea = PleasantHabitFactory(user=user, action="tea", start_date=first)
    run = HabitFactory(
        user=user, action="run, then =stretch", related_pleasant_habit=tea, reward_text=None,
        cue_habit=tea, cue_delay_minutes=10, reminders=[-15, 0], start_date=first,
    )  # fmt: skip
    pause = Pause.objects.create(
        user=user, habit=run, start_date=first + timedelta(days=4),
        end_date=first + timedelta(days=4), reason=SkipReason.SICK,
    )  # fmt: skip
    for n, status in enumerate(HISTORY):
        on = first + timedelta(days=n)
        at = datetime(on.year, on.month, on.day, 8, 0, 0, 123456, tzinfo=UTC)
        fields: dict = {"status": status, "note": f"-note {n}" if n % 2 else ""}
        if status in (Status.COMPLETED, Status.COMPLETED_LATE):
            fields.update(completed_at=at + timedelta(seconds=n, microseconds=7), source=Source.WEB)
        if status == Status.SKIPPED:
            fields.update(skip_reason=SkipReason.SICK, pause=pause)
        make_instance(run, on, at, **fields)
    make_instance(tea, first, datetime(first.year, first.month, first.day, 20, tzinfo=UTC),
                  status=Status.COMPLETED, source=Source.TELEGRAM)  # fmt: skip
    return user
