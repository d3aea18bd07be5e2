"""Generation: the instances of the current and next local date, by the set-based SQL of
`instances/generation.py`."""

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from core.events import record
from core.presence import online_among
from instances import generation
from instances.events import INSTANCE_CREATED
from instances.generation import Scope
from instances.localdays import LocalDay, current_and_next_day, local_day
from instances.models import GeneratedDay, Status
from instances.services.program import programs_settle_after

logger = logging.getLogger(__name__)

# Other advisory locks of the project must not reuse this number.
GENERATION_LOCK_KEY = 0x6E4E
KEEP_GENERATED_DAYS = timedelta(days=3)


def _record_instances(type: str, *, ids: list[int], user_ids: set[int], **facts: object) -> None:
    """Record a change of instances, if any: `ids` to announce, `user_ids` owning changes."""
    if ids or user_ids:
        record(type, ids=ids, user_ids=user_ids, **facts)


def _days_for(timezones: Iterable[str], now: datetime) -> list[LocalDay]:
    return [local_day(tz, on) for tz in set(timezones) for on in current_and_next_day(tz, now)]


def instances_generate_for(
    *,
    habit_ids: Sequence[int] = (),
    user_ids: Sequence[int] = (),
    dates: Sequence[date] = (),
    now: datetime | None = None,
    fresh: bool = False,
) -> list[int]:
    """Generate for some habits or users, on their current and next local date (or `dates`).

    Called when a habit is created, re-activated or re-scheduled, or a user changes
    timezone; runs inside the caller's transaction and announces new rows after commit.
    `fresh` (a habit created, re-activated or edited): no occurrence whose fix deadline has
    passed, the course starts with the next one.
    """
    now = now or timezone.now()
    users = User.objects.all()
    if user_ids:
        users = users.filter(pk__in=user_ids)
    if habit_ids:
        users = users.filter(habits__in=habit_ids)
    timezones = set(users.values_list("timezone", flat=True))
    if dates:
        days = [local_day(tz, on) for tz in timezones for on in dates]
    else:
        days = _days_for(timezones, now)
    created = generation.generate(days=days, now=now, scope=Scope(habit_ids, user_ids), fresh=fresh)
    _record_instances(
        INSTANCE_CREATED,
        ids=[pk for pk, _, _ in created],
        user_ids={user_id for _, user_id, _ in created},
        # Already under way (created after its time): its reminder is decided now rather
        # than at the next run of Telegram's task.
        under_way=any(status in UNDER_WAY for _, _, status in created),
    )
    _settle_expired(created)
    return [row[0] for row in created]


UNDER_WAY = (Status.PENDING, Status.MISSED)


def _settle_expired(created: list[tuple[int, int, str]]) -> None:
    """Born expired (generation after an outage): the last occurrence of a course may be
    among them, and finishing is told (`programs_settle_after`)."""
    expired = [pk for pk, _, status in created if status == Status.FIX_EXPIRED]
    if expired:
        programs_settle_after(instance_ids=expired, many=True)


@transaction.atomic
def instances_generate(*, now: datetime | None = None) -> int:
    """The periodic run: every user's current and next local date, in one statement.

    Days already covered (`GeneratedDay`) are skipped, so a re-run with nothing new is
    nearly free. Only users with a socket open are told about the new rows.
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor
        ):  # one run at a time; a second one waits, then finds nothing
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GENERATION_LOCK_KEY])
    timezones = set(User.objects.values_list("timezone", flat=True).distinct())
    wanted = _days_for(timezones, now)
    done = set(
        GeneratedDay.objects.filter(
            timezone__in=timezones, date__in={d.date for d in wanted}
        ).values_list("timezone", "date")
    )
    days = [d for d in wanted if (d.timezone, d.date) not in done]
    created = generation.generate(days=days, now=now)
    GeneratedDay.objects.bulk_create(
        [GeneratedDay(timezone=d.timezone, date=d.date) for d in days], ignore_conflicts=True
    )
    GeneratedDay.objects.filter(date__lt=(now - KEEP_GENERATED_DAYS).date()).delete()
    online = online_among(user_id for _, user_id, _ in created)
    _record_instances(
        INSTANCE_CREATED,
        ids=[pk for pk, user_id, _ in created if user_id in online],
        user_ids={user_id for _, user_id, _ in created},
    )
    _settle_expired(created)
    return len(created)
