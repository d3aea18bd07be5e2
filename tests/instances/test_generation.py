"""Generation: SPEC §2 occurrence rules, DST, the date line, idempotence (C1, C2, D3-D5)."""

import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from accounts.services import user_update
from habits.services import habit_create, habit_update
from instances import generation
from instances.models import GeneratedDay, HabitInstance, SkipReason, Status
from instances.services import instances_generate, instances_generate_for
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _dates(habit) -> list[date]:
    return sorted(HabitInstance.objects.filter(habit=habit).values_list("date", flat=True))


def test_creating_a_habit_generates_its_current_and_next_local_date_at_once(user):
    with time_machine.travel(NOON, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(18, 0), "reward_text": "tea"}
        )

    assert _dates(habit) == [date(2026, 6, 15), date(2026, 6, 16)]
    today = HabitInstance.objects.get(habit=habit, date=date(2026, 6, 15))
    assert today.scheduled_at == datetime(2026, 6, 15, 18, 0, tzinfo=UTC)
    assert today.grace_deadline == today.scheduled_at + timedelta(minutes=30)
    assert today.fix_deadline == today.grace_deadline + timedelta(minutes=120)
    assert today.status == Status.SCHEDULED


def test_a_habit_created_after_its_time_today_starts_in_the_status_the_clock_gives(user):
    with time_machine.travel(NOON, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(11, 45), "reward_text": "tea"}
        )

    assert HabitInstance.objects.get(habit=habit, date=NOON.date()).status == Status.PENDING


@pytest.mark.parametrize("periodicity", [2, 3, 5, 7])
def test_only_dates_on_the_period_get_an_instance(periodicity):
    habit = HabitFactory(start_date=date(2026, 6, 14), periodicity_days=periodicity)

    instances_generate(now=NOON)

    expected = [
        d
        for d in (date(2026, 6, 15), date(2026, 6, 16))
        if (d - habit.start_date).days % periodicity == 0
    ]
    assert _dates(habit) == expected


def test_generation_never_goes_past_the_repeat_limit():
    habit = HabitFactory(start_date=NOON.date() - timedelta(days=20), repeat_limit=21)
    for k in range(20):
        on = habit.start_date + timedelta(days=k)
        make_instance(habit, on, datetime.combine(on, habit.time_of_day, UTC), status="completed",
                      completed_at=NOON)  # fmt: skip

    instances_generate(now=NOON)

    assert _dates(habit)[-1] == NOON.date()  # occurrence 20 today; 21 would be tomorrow


def test_no_instance_before_the_start_date_nor_for_an_inactive_habit():
    future = HabitFactory(start_date=NOON.date() + timedelta(days=1))
    paused = HabitFactory(is_active=False)

    instances_generate(now=NOON)

    assert _dates(future) == [NOON.date() + timedelta(days=1)]
    assert _dates(paused) == []


def test_each_owner_gets_their_own_local_dates_across_the_date_line():
    east = HabitFactory(
        user=UserFactory(timezone="Pacific/Kiritimati"),
        time_of_day=time(9, 0),
        start_date=date(2026, 6, 1),
    )
    west = HabitFactory(
        user=UserFactory(timezone="Pacific/Pago_Pago"),
        time_of_day=time(9, 0),
        start_date=date(2026, 6, 1),
    )

    instances_generate(now=datetime(2026, 6, 15, 11, 0, tzinfo=UTC))

    assert _dates(east) == [date(2026, 6, 16), date(2026, 6, 17)]
    assert _dates(west) == [date(2026, 6, 15), date(2026, 6, 16)]
    east_first = HabitInstance.objects.get(habit=east, date=date(2026, 6, 16))
    assert east_first.scheduled_at == datetime(2026, 6, 15, 19, 0, tzinfo=UTC)  # 09:00 at UTC+14
    west_first = HabitInstance.objects.get(habit=west, date=date(2026, 6, 15))
    assert west_first.scheduled_at == datetime(2026, 6, 15, 20, 0, tzinfo=UTC)  # 09:00 at UTC-11


def test_dst_start_day_0230_is_scheduled_at_0130z_once():
    berlin = UserFactory(timezone="Europe/Berlin")
    habit = HabitFactory(user=berlin, time_of_day=time(2, 30), start_date=date(2025, 3, 20))

    instances_generate(now=datetime(2025, 3, 29, 12, 0, tzinfo=UTC))
    instances_generate(now=datetime(2025, 3, 30, 12, 0, tzinfo=UTC))

    on_the_day = HabitInstance.objects.filter(habit=habit, date=date(2025, 3, 30))
    assert [i.scheduled_at for i in on_the_day] == [datetime(2025, 3, 30, 1, 30, tzinfo=UTC)]


def test_dst_end_day_0230_is_the_first_0230_once():
    berlin = UserFactory(timezone="Europe/Berlin")
    habit = HabitFactory(user=berlin, time_of_day=time(2, 30), start_date=date(2025, 10, 20))

    instances_generate(now=datetime(2025, 10, 25, 12, 0, tzinfo=UTC))
    instances_generate(now=datetime(2025, 10, 26, 12, 0, tzinfo=UTC))

    on_the_day = HabitInstance.objects.filter(habit=habit, date=date(2025, 10, 26))
    assert [i.scheduled_at for i in on_the_day] == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC)]


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Berlin",
        "America/Havana",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Asia/Kathmandu",
        "America/Santiago",
    ],
)
def test_the_sql_generator_and_the_python_generator_agree_on_transition_days(zone):
    from instances.localdays import local_day

    user = UserFactory(timezone=zone)
    habits = [
        HabitFactory(
            user=user,
            time_of_day=time(h, m),
            start_date=date(2025, 1, 1),
            repeat_limit=45,
            periodicity_days=1,
        )
        for h in range(24)
        for m in (0, 30)
    ]
    tz_days = [local_day(zone, date(2025, 1, 1) + timedelta(days=n)) for n in range(0, 365, 1)]
    transition_days = [d for d in tz_days if d.offset_before != d.offset_after][:2] or tz_days[:1]
    now = datetime(2024, 12, 1, tzinfo=UTC)

    for day in transition_days:
        for habit in habits:
            habit.start_date = day.date
        type(habits[0]).objects.bulk_update(habits, ["start_date"])
        sql_rows = generation.insert_instances(days=[day], now=now)
        sql = {
            i.habit_id: i.scheduled_at
            for i in HabitInstance.objects.filter(pk__in=[r[0] for r in sql_rows])
        }
        HabitInstance.objects.all().delete()
        generation.insert_instances_portable(days=[day], now=now)
        portable = dict(HabitInstance.objects.values_list("habit_id", "scheduled_at"))
        HabitInstance.objects.all().delete()

        assert len(sql) == len(habits)
        assert sql == portable


def test_a_second_run_inserts_nothing_and_skips_covered_days(django_assert_max_num_queries):
    HabitFactory.create_batch(5, start_date=date(2026, 6, 1))
    assert instances_generate(now=NOON) == 10

    with django_assert_max_num_queries(8):
        assert instances_generate(now=NOON) == 0
    assert HabitInstance.objects.count() == 10
    assert (
        GeneratedDay.objects.filter(date__in=[NOON.date(), NOON.date() + timedelta(days=1)]).count()
        == 2
    )


def test_a_run_that_fails_part_way_leaves_nothing_and_the_next_run_heals(monkeypatch):
    HabitFactory.create_batch(3, start_date=date(2026, 6, 1))

    def fail(*args, **kwargs):
        raise RuntimeError("worker lost its database connection")

    monkeypatch.setattr(GeneratedDay.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        instances_generate(now=NOON)
    assert HabitInstance.objects.count() == 0
    monkeypatch.undo()

    assert instances_generate(now=NOON) == 6
    assert HabitInstance.objects.values("habit", "date").distinct().count() == 6


def test_a_missed_day_of_beat_is_healed_by_the_next_run():
    habit = HabitFactory(start_date=date(2026, 6, 1))
    instances_generate(now=NOON)

    instances_generate(now=NOON + timedelta(days=3))  # beat was away for three days

    assert _dates(habit)[-2:] == [date(2026, 6, 18), date(2026, 6, 19)]
    assert len(_dates(habit)) == len(set(_dates(habit)))


@pytest.mark.django_db(transaction=True)
def test_two_generations_at_once_raise_nothing_and_create_each_instance_once():
    HabitFactory.create_batch(20, start_date=date(2026, 6, 1))

    results = run_together(*[lambda: instances_generate(now=NOON)] * 2)

    assert raised(results) == []
    assert sorted(results) == [0, 40]
    assert HabitInstance.objects.count() == 40


@pytest.mark.django_db(transaction=True)
def test_scoped_generations_at_once_raise_nothing():
    habit = HabitFactory(start_date=date(2026, 6, 1))

    results = run_together(*[lambda: instances_generate_for(habit_ids=[habit.pk], now=NOON)] * 3)

    assert raised(results) == []
    assert _dates(habit) == [date(2026, 6, 15), date(2026, 6, 16)]


def test_moving_from_utc_plus_14_to_utc_minus_11_mid_day_leaves_no_gap_and_no_duplicate(api):
    from tests.factories import DEFAULT_PASSWORD

    traveller = UserFactory(timezone="Pacific/Kiritimati")
    now = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)  # 01:00 on the 16th in Kiritimati
    with time_machine.travel(now, tick=False):
        api.post("/api/auth/login/", {"email": traveller.email, "password": DEFAULT_PASSWORD})
        api.login(traveller.email)
        habit_id = api.post(
            "/api/habits/",
            {
                "action": "journal",
                "time_of_day": "20:00",
                "reward_text": "tea",
                "start_date": "2026-06-10",
            },
        ).json()["id"]
        before = sorted(
            HabitInstance.objects.filter(habit_id=habit_id).values_list("date", flat=True)
        )
        assert api.patch("/api/auth/me/", {"timezone": "Pacific/Pago_Pago"}).status_code == 200

    dates = list(
        HabitInstance.objects.filter(habit_id=habit_id)
        .order_by("date")
        .values_list("date", flat=True)
    )
    assert before == [date(2026, 6, 16), date(2026, 6, 17)]
    assert dates == [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]
    moved = HabitInstance.objects.get(habit_id=habit_id, date=date(2026, 6, 16))
    assert moved.scheduled_at == datetime(2026, 6, 17, 7, 0, tzinfo=UTC)  # 20:00 at UTC-11


def test_deactivating_removes_scheduled_instances_but_keeps_history(user):
    with time_machine.travel(NOON, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(11, 45), "reward_text": "tea"}
        )
        habit_update(habit=habit, data={"is_active": False})

    remaining = list(HabitInstance.objects.filter(habit=habit).values_list("date", "status"))
    assert remaining == [(NOON.date(), Status.PENDING)]  # today's is already under way


def test_reactivating_generates_again(user):
    with time_machine.travel(NOON, tick=False):
        habit = habit_create(
            user=user,
            data={
                "action": "run",
                "time_of_day": time(18, 0),
                "reward_text": "tea",
                "is_active": False,
            },
        )
        assert _dates(habit) == []
        habit_update(habit=habit, data={"is_active": True})

    assert _dates(habit) == [NOON.date(), NOON.date() + timedelta(days=1)]


def test_editing_the_time_retimes_only_instances_not_yet_pending(user):
    with time_machine.travel(NOON, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(11, 0), "reward_text": "tea"}
        )
        habit_update(habit=habit, data={"time_of_day": time(19, 0), "grace_minutes": 10})

    today, tomorrow = HabitInstance.objects.filter(habit=habit).order_by("date")
    assert today.scheduled_at == datetime(2026, 6, 15, 11, 0, tzinfo=UTC)  # pending: untouched
    assert tomorrow.scheduled_at == datetime(2026, 6, 16, 19, 0, tzinfo=UTC)
    assert tomorrow.grace_deadline == datetime(2026, 6, 16, 19, 10, tzinfo=UTC)


EVENING = datetime(2026, 6, 15, 18, 50, tzinfo=UTC)
TODAY, TOMORROW = EVENING.date(), EVENING.date() + timedelta(days=1)


@pytest.mark.parametrize(
    ("created", "edit"),
    [
        # Started tomorrow, then today: today's 07:00 is long over.
        ({"time_of_day": time(7), "start_date": TOMORROW}, {"start_date": TODAY}),
        # Every other day (yesterday, tomorrow), then every day: today joins the grid.
        (
            {
                "time_of_day": time(7),
                "start_date": TODAY - timedelta(days=1),
                "periodicity_days": 2,
            },
            {"periodicity_days": 1},
        ),
    ],
    ids=["start-moved-to-today", "period-now-daily"],
)
def test_an_edit_never_brings_an_occurrence_already_over(user, created, edit):
    with time_machine.travel(EVENING, tick=False):
        habit = habit_create(user=user, data={"action": "run", "reward_text": "tea", **created})
        habit_update(habit=habit, data=edit)

    assert _dates(habit) == [TOMORROW]
    assert not HabitInstance.objects.filter(habit=habit, status=Status.FIX_EXPIRED).exists()


def test_a_time_already_over_holds_from_tomorrow_and_one_still_open_moves_today(user):
    def today_and_tomorrow() -> list[tuple[datetime, str]]:
        rows = HabitInstance.objects.filter(habit=habit).order_by("date")
        return [(row.scheduled_at, row.status) for row in rows]

    with time_machine.travel(EVENING, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(23, 30), "reward_text": "tea"}
        )
        habit_update(habit=habit, data={"time_of_day": time(7)})
        assert today_and_tomorrow() == [
            (datetime(2026, 6, 15, 23, 30, tzinfo=UTC), Status.SCHEDULED),  # left at its time
            (datetime(2026, 6, 16, 7, 0, tzinfo=UTC), Status.SCHEDULED),
        ]

        # Windows still open (17:00, fix until 21:30): today's moves too, and may be done late.
        habit_update(habit=habit, data={"time_of_day": time(17), "fix_minutes": 240})
        assert today_and_tomorrow() == [
            (datetime(2026, 6, 15, 17, 0, tzinfo=UTC), Status.MISSED),
            (datetime(2026, 6, 16, 17, 0, tzinfo=UTC), Status.SCHEDULED),
        ]


def test_a_timezone_change_skips_for_travel_what_it_puts_in_the_past(api):
    """Moved east at 18:50 UTC (to Auckland, 06:50 on the 16th): the 15th's 23:30 lies on a
    local date already over there; it is not kept at its old time, where no list would show
    it, nor failed: re-timed, and skipped for travel (outside the course, which stretches)."""
    traveller = UserFactory(timezone="UTC")
    with time_machine.travel(EVENING, tick=False):
        api.login(traveller.email)
        habit = habit_create(
            user=traveller,
            data={"action": "run", "time_of_day": time(23, 30), "reward_text": "tea"},
        )
        assert api.patch("/api/auth/me/", {"timezone": "Pacific/Auckland"}).status_code == 200

    fifteenth = HabitInstance.objects.get(habit=habit, date=TODAY)
    assert (fifteenth.status, fifteenth.skip_reason) == (Status.SKIPPED, SkipReason.TRAVEL)
    assert fifteenth.scheduled_at == datetime(2026, 6, 15, 11, 30, tzinfo=UTC)  # 23:30 NZST
    api.login(traveller.email)  # the clock is back: a token of today
    assert api.get(f"/api/habits/{habit.pk}/").json()["program"]["failed"] == 0


def test_a_trip_there_and_back_fails_nothing():
    """Kathmandu to Los Angeles and back at 18:50 UTC: the days each move brings into view
    whose 07:00 is over are not born failed (the moves are first days), and a later run of
    beat over them makes none either."""
    traveller = UserFactory(timezone="Asia/Kathmandu")
    with time_machine.travel(EVENING, tick=False):
        habit = habit_create(
            user=traveller,
            data={"action": "run", "time_of_day": time(7), "reward_text": "tea",
                  "start_date": TODAY - timedelta(days=4)},
        )  # fmt: skip
        for zone in ("America/Los_Angeles", "Asia/Kathmandu"):
            user_update(user=User.objects.get(pk=traveller.pk), timezone_name=zone)
    with time_machine.travel(EVENING + timedelta(minutes=5), tick=False):
        instances_generate()

    assert not HabitInstance.objects.filter(habit=habit, status=Status.FIX_EXPIRED).exists()


def test_beat_plans_no_failure_for_a_habit_made_after_its_time_in_a_new_zone():
    """The first user in Chicago makes a 08:00 habit at 14:00 local: the making leaves today
    out, and beat's next run, covering (Chicago, today) for the first time, does too."""
    chicago = UserFactory(timezone="America/Chicago")
    with time_machine.travel(EVENING, tick=False):  # 13:50 in Chicago
        habit = habit_create(
            user=chicago, data={"action": "run", "time_of_day": time(8), "reward_text": "tea"}
        )
    with time_machine.travel(EVENING + timedelta(minutes=5), tick=False):
        instances_generate()
        call_command("generate_instances", "--from", str(TODAY - timedelta(days=3)),
                     "--to", str(TODAY), stdout=io.StringIO())  # fmt: skip

    assert _dates(habit) == [TOMORROW]


def test_changing_the_period_drops_scheduled_instances_that_no_longer_fall(user):
    with time_machine.travel(NOON, tick=False):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(18, 0), "reward_text": "tea"}
        )
        habit_update(habit=habit, data={"periodicity_days": 2})

    assert _dates(habit) == [NOON.date()]


def test_new_instances_reach_the_owner_after_commit(
    user, events_of, django_capture_on_commit_callbacks
):
    probe = events_of(user)
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        habit = habit_create(
            user=user, data={"action": "run", "time_of_day": time(18, 0), "reward_text": "tea"}
        )

    created = probe.of_type("instance.created")
    assert sorted(e["data"]["date"] for e in created) == ["2026-06-15", "2026-06-16"]
    assert {e["data"]["habit_id"] for e in created} == {habit.pk}
    assert set(created[0]["data"]) == {
        "id",
        "habit_id",
        "action",
        "place",
        "date",
        "scheduled_at",
        "grace_deadline",
        "fix_deadline",
        "status",
        "completed_at",
        "skip_reason",
        "note",
        "source",
    }
