"""SPEC §6 stats on hand-made histories, the cache, and Redis being away (D7)."""

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.redis import get_redis
from instances import stats as stats_module
from instances.models import HabitInstance
from instances.stats import habit_stats, habit_stats_many, score_multiplier, streaks, strength
from instances.stats_cache import stats_key
from tests.factories import HabitFactory, make_instance

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 6, 1)
C, CL, M, FE, P, S = "completed", "completed_late", "missed", "fix_expired", "pending", "scheduled"
K = "skipped"


def _history(habit, statuses: list[str], start: date = MONDAY) -> None:
    for n, status in enumerate(statuses):
        on = start + timedelta(days=n)
        at = datetime(on.year, on.month, on.day, 8, tzinfo=UTC)
        make_instance(habit, on, at, status=status)


def test_counts_rates_and_streaks_of_a_hand_made_history(user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [C, C, M, CL, C, FE, C, C, C, P, S])

    stats = habit_stats(habit.pk)

    assert stats["counts"] == {
        "scheduled": 1,
        "pending": 1,
        "completed": 6,
        "completed_late": 1,
        "missed": 1,
        "fix_expired": 1,
        "skipped": 0,
    }
    assert (stats["done"], stats["failed"]) == (7, 2)
    assert stats["success_rate"] == round(7 / 9, 4)
    assert stats["on_time_rate"] == round(6 / 7, 4)
    assert stats["streak"] == {"current": 3, "max": 3}  # pending/scheduled neither extend nor break


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_sick_week_neither_breaks_nor_extends_a_streak_nor_moves_rates_or_score(
    user, monkeypatch, vendor
):
    monkeypatch.setattr(type(connection), "vendor", vendor, raising=False)
    ill = HabitFactory(user=user, start_date=MONDAY)
    _history(ill, [C, C, K, K, K, C, M, K, C])
    steady = HabitFactory(user=user, start_date=MONDAY)
    _history(steady, [C, C, C, M, C])  # the same history without the skipped days

    stats, without = habit_stats(ill.pk), habit_stats(steady.pk)

    assert stats["counts"]["skipped"] == 4
    assert stats["streak"] == {"current": 1, "max": 3}  # C C (skips) C: three in a row
    assert (stats["done"], stats["failed"]) == (4, 1)
    assert stats["success_rate"] == without["success_rate"] == 0.8
    assert stats["on_time_rate"] == without["on_time_rate"] == 1.0
    assert stats["score"] == pytest.approx(without["score"], abs=1e-4)
    assert sum(day["done"] + day["failed"] for day in stats["weekly"]) == 5


def test_a_failure_at_the_end_ends_the_current_streak(user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [C, C, C, C, M])

    assert habit_stats(habit.pk)["streak"] == {"current": 0, "max": 4}


def test_rates_are_null_when_nothing_is_resolved(user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [S, P])

    stats = habit_stats(habit.pk)

    assert (stats["success_rate"], stats["on_time_rate"], stats["score"]) == (None, None, 0.0)
    assert stats["streak"] == {"current": 0, "max": 0}


def test_only_failures_give_zero_success_and_no_on_time_rate(user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [M, FE])

    stats = habit_stats(habit.pk)

    assert (stats["success_rate"], stats["on_time_rate"]) == (0.0, None)


def test_weekly_buckets_follow_the_local_weekday(user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(
        habit, [C, M, S, S, S, S, CL, C]
    )  # Monday done, Tuesday failed, Sunday done, Monday done

    weekly = habit_stats(habit.pk)["weekly"]

    assert [w["weekday"] for w in weekly] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert weekly[0] == {"weekday": "mon", "done": 2, "failed": 0}
    assert weekly[1] == {"weekday": "tue", "done": 0, "failed": 1}
    assert weekly[6] == {"weekday": "sun", "done": 1, "failed": 0}
    assert sum(w["done"] + w["failed"] for w in weekly[2:6]) == 0


def test_the_first_score_values_by_hand(user):
    habit = HabitFactory(user=user, start_date=MONDAY, periodicity_days=1)
    m = 0.5 ** (1 / 13)

    _history(habit, [C])
    assert habit_stats(habit.pk)["score"] == pytest.approx(round(1 - m, 4))  # 0.0519
    HabitInstance.objects.all().delete()
    _history(habit, [C, CL, M])
    by_hand = ((0 * m + 1 * (1 - m)) * m + 0.5 * (1 - m)) * m + 0 * (1 - m)
    assert habit_stats(habit.pk)["score"] == pytest.approx(round(by_hand, 4))
    assert round(by_hand, 4) == 0.0713


def test_a_weekly_habit_decays_slower():
    assert score_multiplier(7) > score_multiplier(1)
    assert score_multiplier(1) == pytest.approx(0.5 ** (1 / 13))
    assert score_multiplier(7) == pytest.approx(0.5 ** (math.sqrt(1 / 7) / 13))


def test_sql_and_the_python_rules_agree_on_random_histories(user, monkeypatch):
    rng = random.Random(7)
    habits = []
    for periodicity in (1, 2, 3, 5, 7):
        habit = HabitFactory(user=user, start_date=MONDAY, periodicity_days=periodicity)
        _history(habit, [rng.choice([C, C, CL, M, FE, P, S, K]) for _ in range(45)])
        habits.append(habit)

    sql = habit_stats_many([h.pk for h in habits])
    monkeypatch.setattr(type(connection), "vendor", "sqlite", raising=False)
    python = habit_stats_many([h.pk for h in habits])

    for habit in habits:
        assert sql[habit.pk]["streak"] == python[habit.pk]["streak"]
        assert sql[habit.pk]["score"] == pytest.approx(python[habit.pk]["score"], abs=1e-4)


def test_a_history_longer_than_the_scored_age_still_scores(user, monkeypatch):
    """The SQL score is float8, which raises on underflow: decades of history must not."""
    habit = HabitFactory(user=user, start_date=date(1980, 1, 1), periodicity_days=1)
    days = 15_000  # a daily habit's weight 0.948 ** age leaves float8 near age 14,000
    at = datetime(1980, 1, 1, 8, tzinfo=UTC)
    HabitInstance.objects.bulk_create(
        HabitInstance(
            habit=habit,
            user_id=user.pk,
            date=at.date() + timedelta(days=n),
            scheduled_at=at + timedelta(days=n),
            grace_deadline=at + timedelta(days=n, minutes=30),
            fix_deadline=at + timedelta(days=n, minutes=150),
            status=M if n % 3 == 0 else C,
            completed_at=None if n % 3 == 0 else at + timedelta(days=n),
        )
        for n in range(days)
    )

    sql = habit_stats(habit.pk)
    monkeypatch.setattr(type(connection), "vendor", "sqlite", raising=False)
    python = habit_stats(habit.pk)

    assert sql["done"] == python["done"] == days - (days + 2) // 3
    assert sql["score"] == pytest.approx(python["score"], abs=1e-4)
    assert 0.5 < sql["score"] < 0.8


def test_the_python_rules_on_their_own():
    assert streaks([C, C, M, C]) == (1, 2)
    assert streaks([]) == (0, 0)
    assert strength([C], 1) == pytest.approx(1 - 0.5 ** (1 / 13))


def test_stats_of_many_habits_take_two_queries(user):
    habits = [HabitFactory(user=user, start_date=MONDAY) for _ in range(20)]
    for habit in habits:
        _history(habit, [C, M, C])

    with CaptureQueriesContext(connection) as ctx:
        stats = habit_stats_many([h.pk for h in habits])

    assert len(ctx.captured_queries) == 2
    assert all(s["streak"] == {"current": 1, "max": 1} for s in stats.values())


# --- REST and the cache ----------------------------------------------------------------------


def test_stats_endpoint_answers_the_spec_shape(authed, user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [C, CL, M])

    body = authed.get(f"/api/habits/{habit.pk}/stats/").json()

    assert set(body) == {
        "habit_id",
        "counts",
        "done",
        "failed",
        "success_rate",
        "on_time_rate",
        "streak",
        "weekly",
        "score",
    }
    assert body["habit_id"] == habit.pk
    assert len(body["weekly"]) == 7


def test_another_users_stats_are_404(authed):
    assert authed.get(f"/api/habits/{HabitFactory().pk}/stats/").status_code == 404


def test_a_second_read_comes_from_redis(authed, user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [C])
    first = authed.get(f"/api/habits/{habit.pk}/stats/").json()

    with CaptureQueriesContext(connection) as ctx:
        second = authed.get(f"/api/habits/{habit.pk}/stats/").json()

    assert second == first
    assert get_redis().get(stats_key(habit.pk)) is not None
    # Not even the owner check: the cached entry names the habit's owner.
    assert ctx.captured_queries == []


def test_a_completion_invalidates_the_cache(authed, user, django_capture_on_commit_callbacks):
    today = datetime.now(UTC).date()
    habit = HabitFactory(user=user, start_date=today)
    instance = make_instance(habit, today, datetime.now(UTC))
    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["done"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert authed.post(f"/api/instances/{instance.pk}/complete/").status_code == 200

    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["done"] == 1


def test_a_sweep_invalidates_the_cache(authed, user, django_capture_on_commit_callbacks):
    from instances.services import instances_sweep

    habit = HabitFactory(user=user, start_date=MONDAY)
    make_instance(habit, MONDAY, datetime(2026, 6, 1, 8, tzinfo=UTC))
    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["failed"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        instances_sweep(now=datetime(2026, 6, 2, tzinfo=UTC))

    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["counts"]["fix_expired"] == 1


def test_generation_invalidates_the_cache(authed, user, django_capture_on_commit_callbacks):
    from instances.services import instances_generate_for

    habit = HabitFactory(user=user, start_date=datetime.now(UTC).date())
    HabitInstance.objects.filter(habit=habit).delete()
    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["counts"]["scheduled"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        created = instances_generate_for(habit_ids=[habit.pk])

    counts = authed.get(f"/api/habits/{habit.pk}/stats/").json()["counts"]
    assert sum(counts.values()) == len(created) == 2


def test_a_habit_edit_invalidates_the_cache(authed, user, django_capture_on_commit_callbacks):
    habit = HabitFactory(user=user, start_date=MONDAY, periodicity_days=1)
    _history(habit, [C, C])
    daily = authed.get(f"/api/habits/{habit.pk}/stats/").json()["score"]

    with django_capture_on_commit_callbacks(execute=True):
        authed.patch(f"/api/habits/{habit.pk}/", {"periodicity_days": 7})

    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["score"] != daily


def test_a_read_that_began_before_a_change_cannot_store_old_numbers(user, monkeypatch):
    from instances import stats_cache

    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [C])
    real = stats_module.habit_stats

    def slow_compute(habit_id):
        old = real(habit_id)
        stats_cache.stats_forget([habit_id])  # a change commits meanwhile
        return old

    monkeypatch.setattr(stats_cache, "habit_stats", slow_compute)
    stats_cache.habit_stats_cached(habit.pk)

    assert get_redis().get(stats_key(habit.pk)) is None


@override_settings(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.3)
def test_redis_down_still_answers_fresh_stats(authed, user):
    habit = HabitFactory(user=user, start_date=MONDAY)
    _history(habit, [C, M])

    response = authed.get(f"/api/habits/{habit.pk}/stats/")

    assert response.status_code == 200
    assert response.json()["done"] == 1
