"""Generation follows the course and the pauses (SPEC §7): a skip extends the course by one
occurrence on the date grid, paused dates are born skipped in the same statement, and a habit
created or re-activated never starts with a failure it could not prevent.

Both generators are checked where the rows are decided: the set-based statement of
PostgreSQL (`insert_instances`) and the portable one of SQLite (`insert_instances_portable`).
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from habits.services import habit_create, habit_update
from instances import generation
from instances.localdays import local_day
from instances.models import HabitInstance, Pause, SkipReason, Status
from instances.services import instance_skip, instances_generate, pause_create, pause_delete
from tests.conftest import Api
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
TOMORROW = TODAY + timedelta(days=1)
GENERATORS = pytest.mark.parametrize(
    "generate",
    [generation.insert_instances, generation.insert_instances_portable],
    ids=["sql", "portable"],
)


def _days(*dates: date) -> list:
    return [local_day("UTC", on) for on in dates]


def _history(habit, statuses: list[Status]) -> None:
    """Instances on the habit's first grid dates, in these statuses."""
    for k, status in enumerate(statuses):
        on = habit.start_date + timedelta(days=k * habit.periodicity_days)
        make_instance(habit, on, datetime.combine(on, habit.time_of_day, UTC), status=status)


def _rows(habit) -> list[tuple[date, str, str, int | None]]:
    return list(
        HabitInstance.objects.filter(habit=habit)
        .filter(date__gte=TODAY)
        .order_by("date")
        .values_list("date", "status", "skip_reason", "pause_id")
    )


def _habit_at_its_limit(skips: int = 0, **fields):
    """A daily habit (limit 21) whose occurrence 20 + `skips` is today, the earlier ones
    done except `skips` skipped ones."""
    habit = HabitFactory(start_date=TODAY - timedelta(days=20 + skips), **fields)
    _history(habit, [Status.SKIPPED] * skips + [Status.COMPLETED] * 20)
    return habit


@GENERATORS
def test_the_course_ends_after_repeat_limit_counted_occurrences(generate):
    habit = _habit_at_its_limit()

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    # Today is the 21st; tomorrow would be the 22nd, though both are made in one statement.
    assert [on for on, *_ in _rows(habit)] == [TODAY]


@GENERATORS
def test_a_skip_extends_the_course_by_one_occurrence(generate):
    habit = _habit_at_its_limit(skips=1)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    # Grid step 21 today is still the 21st counted occurrence; tomorrow's would be the 22nd.
    assert [on for on, *_ in _rows(habit)] == [TODAY]
    assert HabitInstance.objects.filter(habit=habit).exclude(status=Status.SKIPPED).count() == 21


@GENERATORS
def test_each_skip_moves_the_end_one_grid_step(generate):
    two_skips = _habit_at_its_limit(skips=2)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    assert [on for on, *_ in _rows(two_skips)] == [TODAY]


@GENERATORS
def test_a_course_with_a_skip_gets_a_date_past_its_plain_end(generate):
    """A daily habit of 21 started 20 days ago, with one of them skipped: its 21st counted
    occurrence is tomorrow, on grid step 21 (the 22nd date)."""
    habit = HabitFactory(start_date=TODAY - timedelta(days=20))
    _history(habit, [Status.COMPLETED] * 10 + [Status.SKIPPED] + [Status.COMPLETED] * 9)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    assert [on for on, *_ in _rows(habit)] == [TODAY, TOMORROW]
    plain = HabitFactory(start_date=TODAY - timedelta(days=20))
    _history(plain, [Status.COMPLETED] * 20)
    generate(days=_days(TODAY, TOMORROW), now=NOON)
    assert [on for on, *_ in _rows(plain)] == [TODAY]


@GENERATORS
def test_dates_never_generated_do_not_count(generate):
    """Inactive for a while: the course goes on from where it was."""
    habit = HabitFactory(start_date=TODAY - timedelta(days=40))
    _history(habit, [Status.COMPLETED] * 5)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    assert [on for on, *_ in _rows(habit)] == [TODAY, TOMORROW]


@GENERATORS
def test_paused_dates_are_born_skipped_with_the_pause_reason(generate):
    habit = HabitFactory(start_date=TODAY - timedelta(days=3), time_of_day=time(18, 0))
    other = HabitFactory(user=habit.user, start_date=TODAY, time_of_day=time(18, 0))
    travel = Pause.objects.create(
        user=habit.user, start_date=TOMORROW, end_date=TOMORROW + timedelta(days=5),
        reason=SkipReason.TRAVEL,
    )  # fmt: skip
    Pause.objects.create(user=habit.user, habit=habit, start_date=TODAY, end_date=TOMORROW)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    own_pause = Pause.objects.get(habit=habit)
    assert _rows(habit) == [
        (TODAY, Status.SKIPPED, SkipReason.REST, own_pause.pk),
        # Both pauses cover tomorrow: the one with the lower id is its pause.
        (TOMORROW, Status.SKIPPED, SkipReason.TRAVEL, travel.pk),
    ]
    assert _rows(other) == [
        (TODAY, Status.SCHEDULED, "", None),
        (TOMORROW, Status.SKIPPED, SkipReason.TRAVEL, travel.pk),
    ]


@GENERATORS
def test_another_users_pause_changes_nothing(generate):
    habit = HabitFactory(start_date=TODAY, time_of_day=time(18, 0))
    Pause.objects.create(user=UserFactory(), start_date=TODAY, end_date=TOMORROW)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    assert [status for _, status, *_ in _rows(habit)] == [Status.SCHEDULED] * 2


@GENERATORS
def test_a_paused_date_does_not_count_toward_the_limit(generate):
    habit = _habit_at_its_limit()
    Pause.objects.create(user=habit.user, start_date=TODAY, end_date=TODAY)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    # Today is paused (skipped), so tomorrow is the 21st counted occurrence.
    assert [(on, status) for on, status, *_ in _rows(habit)] == [
        (TODAY, Status.SKIPPED),
        (TOMORROW, Status.SCHEDULED),
    ]


@GENERATORS
def test_no_skipped_instance_is_born_past_the_end_of_the_course(generate):
    habit = HabitFactory(start_date=TODAY - timedelta(days=21))
    _history(habit, [Status.COMPLETED] * 21)
    Pause.objects.create(user=habit.user, start_date=TODAY, end_date=TOMORROW)

    generate(days=_days(TODAY, TOMORROW), now=NOON)

    assert _rows(habit) == []


def test_a_pause_never_changes_final_instances():
    habit = HabitFactory(start_date=TODAY - timedelta(days=2))
    _history(habit, [Status.COMPLETED, Status.FIX_EXPIRED])

    pause = pause_create(user=habit.user, start_date=TODAY - timedelta(days=2), end_date=TOMORROW)
    instances_generate(now=NOON)

    statuses = dict(HabitInstance.objects.filter(habit=habit).values_list("date", "status"))
    assert statuses == {
        TODAY - timedelta(days=2): Status.COMPLETED,
        TODAY - timedelta(days=1): Status.FIX_EXPIRED,
        TODAY: Status.SKIPPED,
        TOMORROW: Status.SKIPPED,
    }
    assert set(HabitInstance.objects.filter(pause=pause).values_list("date", flat=True)) == {
        TODAY,
        TOMORROW,
    }


@GENERATORS
def test_a_rerun_inserts_nothing_new(generate):
    habits = [_habit_at_its_limit(skips=1), _habit_at_its_limit()]
    Pause.objects.create(user=habits[0].user, start_date=TOMORROW, end_date=TOMORROW)
    first = generate(days=_days(TODAY, TOMORROW), now=NOON)
    before = {h.pk: _rows(h) for h in habits}

    assert generate(days=_days(TODAY, TOMORROW), now=NOON) == []
    assert generate(days=_days(TODAY, TOMORROW), now=NOON + timedelta(hours=1)) == []
    assert {h.pk: _rows(h) for h in habits} == before
    assert len(first) == 2


def test_both_generators_make_the_same_rows():
    """A mix of habits, histories, pauses and the first-day rule: the same rows either way."""
    user, other = UserFactory(), UserFactory(timezone="Europe/Berlin")
    habits = []
    for n, (skips, done, period) in enumerate(
        [(0, 20, 1), (1, 20, 1), (2, 19, 1), (0, 44, 1), (3, 5, 2), (0, 0, 1), (1, 30, 1)]
    ):
        for owner in (user, other):
            habit = HabitFactory(
                user=owner,
                start_date=TODAY - timedelta(days=(skips + done) * period),
                periodicity_days=period,
                repeat_limit=45 if done > 30 else 21,
                time_of_day=time(6 + 2 * n, 0),
            )
            _history(habit, [Status.SKIPPED] * skips + [Status.COMPLETED] * done)
            habits.append(habit)
    Pause.objects.create(user=user, start_date=TOMORROW, end_date=TOMORROW, reason=SkipReason.SICK)
    Pause.objects.create(user=other, habit=habits[3], start_date=TODAY, end_date=TODAY)
    days = [local_day(tz, on) for tz in ("UTC", "Europe/Berlin") for on in (TODAY, TOMORROW)]

    def made(generate, fresh: bool) -> set:
        with time_machine.travel(NOON, tick=False):
            ids = [pk for pk, _, _ in generate(days=days, now=NOON, fresh=fresh)]
        rows = set(
            HabitInstance.objects.filter(pk__in=ids).values_list(
                "habit_id", "date", "scheduled_at", "fix_deadline", "status", "skip_reason",
                "pause_id",
            )
        )  # fmt: skip
        HabitInstance.objects.filter(pk__in=ids).delete()
        return rows

    for fresh in (False, True):
        sql = made(generation.insert_instances, fresh)
        assert sql == made(generation.insert_instances_portable, fresh)
        assert len(sql) >= 10
    # The first-day rule leaves out what was already over at noon (06:00, 08:00 plus 2.5 h).
    assert len(made(generation.insert_instances, True)) < len(
        made(generation.insert_instances, False)
    )


# --- the first day ---------------------------------------------------------------------------


def test_a_habit_created_after_its_fix_deadline_starts_tomorrow(user):
    evening = datetime(2026, 6, 15, 21, 0, tzinfo=UTC)
    with time_machine.travel(evening, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(7, 0), "reward_text": "tea"}
        )

    assert list(HabitInstance.objects.filter(habit=habit).values_list("date", "status")) == [
        (TOMORROW, Status.SCHEDULED)
    ]


def test_a_habit_created_within_its_fix_window_starts_today(user):
    """07:00, 30 min of grace, 120 of fix: at 09:00 it can still be done (late)."""
    with time_machine.travel(datetime(2026, 6, 15, 9, 0, tzinfo=UTC), tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(7, 0), "reward_text": "tea"}
        )

    assert HabitInstance.objects.get(habit=habit, date=TODAY).status == Status.MISSED


def test_a_habit_reactivated_after_its_fix_deadline_starts_tomorrow(user):
    with time_machine.travel(datetime(2026, 6, 10, 12, 0, tzinfo=UTC), tick=False):
        habit = habit_create(
            user=user,
            data={
                "action": "run",
                "time_of_day": time(7, 0),
                "reward_text": "tea",
                "is_active": False,
            },
        )
    with time_machine.travel(datetime(2026, 6, 15, 21, 0, tzinfo=UTC), tick=False):
        habit_update(habit=habit, data={"is_active": True})

    assert list(HabitInstance.objects.filter(habit=habit).values_list("date", flat=True)) == [
        TOMORROW
    ]


def test_the_periodic_run_after_an_outage_still_creates_and_resolves_what_it_missed():
    habit = HabitFactory(start_date=TODAY - timedelta(days=3), time_of_day=time(7, 0))
    late = datetime(2026, 6, 15, 21, 0, tzinfo=UTC)

    instances_generate(now=late)

    today = HabitInstance.objects.get(habit=habit, date=TODAY)
    assert today.status == Status.FIX_EXPIRED
    assert HabitInstance.objects.get(habit=habit, date=TOMORROW).status == Status.SCHEDULED


def test_a_pause_covers_the_new_local_dates_after_a_move_across_the_date_line(user):
    # 13:00 UTC on the 15th is already the 16th in Kiritimati (UTC+14): the move generates
    # the 16th and 17th there, and the pause (local dates, whatever the zone) covers the 17th.
    from accounts.services import user_update

    user.timezone = "UTC"
    user.save(update_fields=["timezone"])
    habit = HabitFactory(user=user, start_date=TODAY, time_of_day=time(20, 0))
    with time_machine.travel(NOON, tick=False):
        pause_create(user=user, start_date=TOMORROW + timedelta(days=1),
                     end_date=TOMORROW + timedelta(days=3), reason=SkipReason.TRAVEL)  # fmt: skip
        user_update(user=user, timezone_name="Pacific/Kiritimati")

    rows = {on: (status, reason) for on, status, reason, _ in _rows(habit)}
    assert rows[TOMORROW] == (Status.SCHEDULED, "")
    assert rows[TOMORROW + timedelta(days=1)] == (Status.SKIPPED, SkipReason.TRAVEL)


def test_a_pause_covers_its_local_dates_across_a_dst_change():
    # Europe/Berlin leaves summer time in the night of 24-25 October 2026.
    from tests.factories import UserFactory as Users

    berlin = Users(timezone="Europe/Berlin")
    habit = HabitFactory(user=berlin, start_date=date(2026, 10, 20), time_of_day=time(7, 0))
    pause_create(user=berlin, start_date=date(2026, 10, 25), end_date=date(2026, 10, 25))
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)

    with time_machine.travel(saturday, tick=False):
        instances_generate(now=saturday)

    rows = dict(HabitInstance.objects.filter(habit=habit).values_list("date", "status"))
    assert rows[date(2026, 10, 24)] != Status.SKIPPED
    assert rows[date(2026, 10, 25)] == Status.SKIPPED
    sunday = HabitInstance.objects.get(habit=habit, date=date(2026, 10, 25))
    assert sunday.scheduled_at == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)  # 07:00 CET


@pytest.mark.parametrize("by", ["api", "pause"])
def test_skipping_the_last_occurrence_stretches_the_course_onto_a_day_already_planned(by):
    """The periodic run planned today and tomorrow (tomorrow past the course: nothing). Today's
    occurrence, the last, is then set aside: tomorrow, a day no run covers again, gets the
    occurrence the course now owes, and the course is not finished."""
    habit = _habit_at_its_limit(time_of_day=time(20, 0))
    owner = habit.user
    with time_machine.travel(NOON, tick=False):
        instances_generate(now=NOON)
        assert [on for on, *_ in _rows(habit)] == [TODAY]  # the 21st, the last
        if by == "api":
            api = Api()
            api.login(owner.email)
            today = HabitInstance.objects.get(habit=habit, date=TODAY)
            response = api.post(f"/api/instances/{today.pk}/skip/", {"reason": "sick"})
            assert response.status_code == 200, response.content
            assert api.get(f"/api/habits/{habit.pk}/").json()["program"]["finished"] is False
        else:
            pause_create(user=owner, start_date=TODAY, end_date=TODAY)

    assert [(on, status) for on, status, *_ in _rows(habit)] == [
        (TODAY, Status.SKIPPED),
        (TOMORROW, Status.SCHEDULED),
    ]


def test_a_skip_far_from_the_end_of_the_course_runs_no_generation():
    """Mid-course, the stretched day is still ahead of every run: the skip costs no
    generation statement (the periodic run plans that day when it comes)."""
    habit = HabitFactory(start_date=TODAY - timedelta(days=3), time_of_day=time(20, 0))
    _history(habit, [Status.COMPLETED] * 3)
    with time_machine.travel(NOON, tick=False):
        instances_generate(now=NOON)
        today = HabitInstance.objects.get(habit=habit, date=TODAY)
        with CaptureQueriesContext(connection) as queries:
            instance_skip(instance_id=today.pk, user_id=habit.user_id, reason=SkipReason.SICK)

    inserts = [q["sql"] for q in queries if "INSERT INTO instances_habitinstance" in q["sql"]]
    assert inserts == []
    assert HabitInstance.objects.get(pk=today.pk).status == Status.SKIPPED


@pytest.mark.parametrize("by", ["api", "pause"])
def test_undoing_the_skip_shrinks_the_course_back(by):
    """The skip of the last occurrence stretched the course onto tomorrow; undone, today's
    counts again and tomorrow's, still scheduled, is one too many: it goes."""
    habit = _habit_at_its_limit(time_of_day=time(20, 0))
    owner = habit.user
    with time_machine.travel(NOON, tick=False):
        instances_generate(now=NOON)
        today = HabitInstance.objects.get(habit=habit, date=TODAY)
        if by == "api":
            api = Api()
            api.login(owner.email)
            assert (
                api.post(f"/api/instances/{today.pk}/skip/", {"reason": "sick"}).status_code == 200
            )
            assert [on for on, *_ in _rows(habit)] == [TODAY, TOMORROW]
            assert api.delete(f"/api/instances/{today.pk}/skip/").status_code == 200
        else:
            pause = pause_create(user=owner, start_date=TODAY, end_date=TODAY)
            assert [on for on, *_ in _rows(habit)] == [TODAY, TOMORROW]
            pause_delete(pause_id=pause.pk, user=owner)

    assert [(on, status) for on, status, *_ in _rows(habit)] == [(TODAY, Status.SCHEDULED)]
