"""Reminder offsets (SPEC §8, RELIABILITY R1): each offset owed once while the instance is
open, at scheduled_at + offset to within the decision tick, never early, across DST."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from habits.services import habit_create, habit_update
from instances import generation
from instances.localdays import local_day
from instances.models import HabitInstance, Pause, Source, Status
from instances.reminders import reminder_next
from instances.services import (
    instance_complete,
    instance_skip,
    instance_unskip,
    instances_generate,
    instances_sweep,
)
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.services import notifications_decide, offsets, outbox_claim
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["sql", "portable"])
def deciding_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case both ways: PostgreSQL's one statement, and the Python SQLite runs."""
    if request.param == "portable":
        monkeypatch.setattr(offsets, "_owe_offsets_sql", offsets._owe_offsets_portable)
    return request.param

MINUTE = timedelta(minutes=1)
TICK = timedelta(seconds=30)  # beat runs `telegram.decide` every 30 s


def _bound(tz: str = "UTC"):
    user = UserFactory(timezone=tz)
    TelegramProfile.objects.create(user=user, telegram_id=3000 + user.pk, access_hash=1)
    return user


def _armed(habit, at: datetime, *, since: datetime, **fields) -> HabitInstance:
    """An instance at `at` whose offsets were armed at `since` (as generation does)."""
    armed = reminder_next(scheduled_at=at, reminders=habit.reminders, after=since, strict=False)
    return make_instance(habit, at.date(), at, next_reminder_at=armed, **fields)


def _offsets(instance: HabitInstance) -> list[int]:
    return sorted(
        OutboxMessage.objects.filter(kind=OutboxKind.REMINDER, instance=instance).values_list(
            "offset_minutes", flat=True
        )
    )


def test_each_offset_is_owed_once_at_its_moment_never_early():
    user = _bound()
    at = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    habit = HabitFactory(
        user=user, time_of_day=time(8, 0), start_date=at.date(), reminders=[-30, 0, 45]
    )
    instances_generate(now=at - timedelta(hours=3))
    instance = HabitInstance.objects.get(habit=habit, date=at.date())
    assert instance.next_reminder_at == at - 30 * MINUTE

    first_owed: dict[int, datetime] = {}
    now = at - 40 * MINUTE
    while now <= at + 60 * MINUTE:
        instances_sweep(now=now)
        notifications_decide(now=now)
        for offset, owed_at in OutboxMessage.objects.filter(
            kind=OutboxKind.REMINDER, instance=instance
        ).values_list("offset_minutes", "next_attempt_at"):
            first_owed.setdefault(offset, owed_at)
        now += TICK

    assert _offsets(instance) == [-30, 0, 45]  # each once
    for offset, owed_at in first_owed.items():
        moment = at + offset * MINUTE
        assert moment <= owed_at < moment + 60 * timedelta(seconds=1), offset
    instance.refresh_from_db()
    assert instance.next_reminder_at is None  # nothing left to read


def test_a_habit_without_offset_zero_is_not_reminded_on_becoming_pending():
    user = _bound()
    at = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    habit = HabitFactory(user=user, start_date=at.date(), reminders=[15])
    instance = _armed(habit, at, since=at - timedelta(hours=1))

    instances_sweep(now=at)
    notifications_decide(now=at)
    assert _offsets(instance) == []
    notifications_decide(now=at + 15 * MINUTE)
    assert _offsets(instance) == [15]


@pytest.mark.django_db(transaction=True)
def test_overlapping_decisions_owe_each_offset_once():
    at = timezone.now() + 10 * MINUTE
    instances = []
    for _ in range(20):
        habit = HabitFactory(user=_bound(), start_date=at.date(), reminders=[-10, 0])
        instances.append(_armed(habit, at, since=at - timedelta(hours=1)))

    results = run_together(*[lambda: notifications_decide(now=at)] * 3)

    assert raised(results) == []
    assert OutboxMessage.objects.filter(kind=OutboxKind.REMINDER, offset_minutes=-10).count() == 20
    assert notifications_decide(now=at) == 0


def test_the_database_refuses_a_second_row_for_the_same_offset():
    at = timezone.now()
    instance = _armed(HabitFactory(user=_bound(), reminders=[-5]), at, since=at - MINUTE * 60)
    row = {"kind": OutboxKind.REMINDER, "instance": instance, "telegram_id": 1,
           "next_attempt_at": at, "offset_minutes": -5}  # fmt: skip
    OutboxMessage.objects.create(**row)

    with pytest.raises(Exception, match="outbox_one_reminder_per_offset"):
        OutboxMessage.objects.create(**row)


def test_done_before_the_next_offset_cancels_what_is_queued_and_what_follows():
    user = _bound()
    at = timezone.now() + 20 * MINUTE
    habit = HabitFactory(user=user, start_date=at.date(), reminders=[-30, 10])
    instance = _armed(habit, at, since=at - timedelta(hours=1))
    notifications_decide(now=timezone.now())  # the -30 one is owed, not yet sent
    (queued,) = OutboxMessage.objects.filter(instance=instance)

    instance_complete(
        instance_id=instance.pk, user_id=user.pk, at=timezone.now(), source=Source.WEB
    )

    queued.refresh_from_db()
    assert queued.given_up_at is not None
    notifications_decide(now=at + 11 * MINUTE)
    assert _offsets(instance) == [-30]  # 10 never owed
    instance.refresh_from_db()
    assert instance.next_reminder_at is None


@pytest.mark.parametrize("outcome", ["skipped", "fix_expired"])
def test_an_instance_no_longer_open_is_owed_no_offset(outcome):
    user = _bound()
    at = timezone.now() - 5 * MINUTE
    habit = HabitFactory(user=user, start_date=at.date(), reminders=[0, 3])
    instance = _armed(habit, at, since=at - timedelta(hours=1))
    if outcome == "skipped":
        instance_skip(instance_id=instance.pk, user_id=user.pk)
    else:
        HabitInstance.objects.filter(pk=instance.pk).update(status=Status.FIX_EXPIRED)

    notifications_decide()

    assert _offsets(instance) == []


def test_after_a_pause_in_deciding_only_the_latest_due_offset_is_sent():
    user = _bound()
    at = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    habit = HabitFactory(user=user, start_date=at.date(), reminders=[-60, -30, -10])
    instance = _armed(habit, at, since=at - timedelta(hours=2))

    notifications_decide(now=at - 5 * MINUTE)  # the decision was down for an hour

    assert _offsets(instance) == [-10]


def test_offsets_are_minutes_across_dst_not_wall_clock_hours():
    berlin = _bound("Europe/Berlin")
    # 2026-03-29 08:00 CEST = 06:00 UTC; ten hours earlier is 20:00 UTC (21:00 CET the day
    # before), not 22:00 local.
    habit = HabitFactory(user=berlin, time_of_day=time(8, 0), start_date=date(2026, 3, 29),
                         reminders=[-600])  # fmt: skip
    instances_generate(now=datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    instance = HabitInstance.objects.get(habit=habit)
    moment = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)

    notifications_decide(now=moment - timedelta(seconds=1))
    assert _offsets(instance) == []
    notifications_decide(now=moment)
    assert _offsets(instance) == [-600]


def test_new_offsets_apply_from_now_on_to_open_instances():
    user = _bound()
    at = timezone.now() + 30 * MINUTE
    habit = HabitFactory(user=user, start_date=at.date())
    instance = _armed(habit, at, since=timezone.now())
    assert instance.next_reminder_at is None  # only offset 0

    habit_update(habit=habit, data={"reminders": [-60, -15, 20]})

    instance.refresh_from_db()
    # -60 has passed: not sent late; -15 is the next one.
    assert instance.next_reminder_at == at - 15 * MINUTE


def test_the_texts_say_before_at_or_after():
    user = _bound()
    now = timezone.now()
    habit = HabitFactory(user=user, action="stretch", place="", reminders=[-20, 0, 60])
    instance = make_instance(habit, now.date(), now + 20 * MINUTE)
    for offset in (-20, 60):
        OutboxMessage.objects.create(
            kind=OutboxKind.REMINDER, instance=instance, telegram_id=1, next_attempt_at=now,
            offset_minutes=offset,
        )  # fmt: skip

    texts = sorted(d.text for d in outbox_claim(now=now))

    assert texts[0].startswith("⏰ Coming up at ")
    assert texts[1].startswith("⏰ Still open: stretch. Fix it until ")


@pytest.mark.parametrize(
    "generate",
    [generation.insert_instances, generation.insert_instances_portable],
    ids=["sql", "portable"],
)
def test_both_generators_arm_the_first_offset_still_ahead(generate):
    now = datetime(2026, 6, 15, 7, 40, tzinfo=UTC)
    user = _bound()
    ahead = HabitFactory(user=user, time_of_day=time(8, 0), start_date=now.date(),
                         reminders=[-30, -15, 0, 45])  # fmt: skip
    default = HabitFactory(user=user, time_of_day=time(9, 0), start_date=now.date())
    paused = HabitFactory(user=user, time_of_day=time(9, 0), start_date=now.date(),
                          reminders=[-30])  # fmt: skip
    Pause.objects.create(user=user, habit=paused, start_date=now.date(), end_date=now.date())
    today, tomorrow = now.date(), now.date() + timedelta(days=1)

    generate(days=[local_day("UTC", today), local_day("UTC", tomorrow)], now=now)

    armed = dict(
        HabitInstance.objects.filter(date=today).values_list("habit_id", "next_reminder_at")
    )
    # -30 (07:30) has passed at 07:40: -15 is the first still ahead.
    assert armed[ahead.pk] == datetime(2026, 6, 15, 7, 45, tzinfo=UTC)
    assert armed[default.pk] is None  # offset 0 alone: the pending reminder
    assert armed[paused.pk] is None  # born skipped
    assert HabitInstance.objects.get(habit=ahead, date=tomorrow).next_reminder_at == datetime(
        2026, 6, 16, 7, 30, tzinfo=UTC
    )


def test_a_new_time_moves_the_offsets_with_the_instance():
    with time_machine.travel(datetime(2026, 6, 15, 6, 0, tzinfo=UTC), tick=False):
        habit = habit_create(
            user=_bound(),
            data={"action": "stretch", "time_of_day": time(8, 0), "reward_text": "tea",
                  "reminders": [-30, 0]},
        )  # fmt: skip
        instance = HabitInstance.objects.get(habit=habit, date=date(2026, 6, 15))
        assert instance.next_reminder_at == datetime(2026, 6, 15, 7, 30, tzinfo=UTC)

        habit_update(habit=habit, data={"time_of_day": time(9, 0)})

    instance.refresh_from_db()
    assert instance.next_reminder_at == datetime(2026, 6, 15, 8, 30, tzinfo=UTC)


def test_an_unskipped_instance_gets_its_offsets_still_ahead():
    user = _bound()
    at = timezone.now() + 30 * MINUTE
    habit = HabitFactory(user=user, start_date=at.date(), reminders=[-20, 10])
    instance = _armed(habit, at, since=timezone.now())
    instance_skip(instance_id=instance.pk, user_id=user.pk)
    notifications_decide(now=at - 20 * MINUTE)  # skipped at the moment: nothing, row let go
    instance.refresh_from_db()
    assert (instance.next_reminder_at, _offsets(instance)) == (None, [])

    instance_unskip(instance_id=instance.pk, user_id=user.pk, now=timezone.now())
    notifications_decide(now=at - 20 * MINUTE)
    notifications_decide(now=at + 10 * MINUTE)

    assert _offsets(instance) == [-20, 10]
