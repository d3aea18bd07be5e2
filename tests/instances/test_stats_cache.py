"""`GET /api/habits/{id}/stats/` answers its cached bytes with no query, to the owner alone,
and each change of the numbers or of the owner shows at the next request
(instances/stats_cache.py)."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core import near_cache, versioned_cache
from core.events import record
from habits.models import Habit
from instances.events import INSTANCE_DELETED
from instances.models import HabitInstance, Status
from instances.schemas import StatsOut
from instances.stats import habit_stats
from instances.stats_cache import habit_stats_cached, stats_forget, stats_recompute
from tests.conftest import Api, count_redis_reads
from tests.factories import HabitFactory, UserFactory, make_instance
from transfer.events import IMPORT_FINISHED

# Committed for real: the entries are forgotten after each change's commit.
pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 6, 1)
AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 6, 1, 8, 10, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def habit(user) -> Habit:
    return HabitFactory(user=user, start_date=DAY, time_of_day=time(8))


def _path(habit: Habit) -> str:
    return f"/api/habits/{habit.pk}/stats/"


def _stats(client: Api, habit: Habit) -> dict:
    response = client.get(_path(habit))
    assert response.status_code == 200, response.content
    return response.json()


def test_the_cached_answer_is_the_schemas_json_with_no_query(authed, habit):
    make_instance(habit, DAY, AT, status=Status.COMPLETED)
    first = authed.get(_path(habit))
    with CaptureQueriesContext(connection) as ctx:
        again = authed.get(_path(habit))

    assert ctx.captured_queries == []
    assert again.content == first.content
    assert again["Content-Type"] == "application/json; charset=utf-8"
    assert first.json() == StatsOut(**habit_stats(habit.pk)).model_dump(mode="json")


def test_a_cached_entry_is_404_to_anyone_but_its_owner(authed, habit):
    _stats(authed, habit)
    stranger = Api()
    stranger.login(UserFactory().email)
    stranger.get("/api/auth/me/")  # their token's state cached

    with CaptureQueriesContext(connection) as ctx:
        response = stranger.get(_path(habit))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert ctx.captured_queries == []


def test_a_deleted_habit_is_404_at_the_next_request(authed, habit):
    _stats(authed, habit)

    authed.delete(f"/api/habits/{habit.pk}/")  # habit.deleted

    assert authed.get(_path(habit)).status_code == 404


def test_completions_skips_and_deletions_show_at_the_next_request(authed, habit, admin_user):
    first = make_instance(habit, DAY, AT)
    HabitInstance.objects.filter(pk=first.pk).update(status=Status.PENDING)
    second = make_instance(habit, date(2026, 6, 2), datetime(2026, 6, 2, 8, tzinfo=UTC))
    assert _stats(authed, habit)["done"] == 0

    authed.post(f"/api/instances/{first.pk}/complete/")  # instance.completed
    assert _stats(authed, habit)["done"] == 1

    authed.post(f"/api/instances/{second.pk}/skip/", {"reason": "travel"})  # instance.skipped
    assert _stats(authed, habit)["counts"]["skipped"] == 1

    request = RequestFactory().post("/admin/")
    request.user = admin_user
    site._registry[HabitInstance].delete_queryset(request, HabitInstance.objects.all())
    assert _stats(authed, habit)["done"] == 0  # instance.deleted


def test_an_import_and_a_forgotten_deletion_show_at_the_next_request(authed, user, habit):
    _stats(authed, habit)
    make_instance(habit, DAY, AT, status=Status.COMPLETED)  # behind the services' back

    record(IMPORT_FINISHED, job_id=0, user_id=user.pk, habit_ids=[habit.pk])
    assert _stats(authed, habit)["done"] == 1

    HabitInstance.objects.all().delete()
    record(INSTANCE_DELETED, owners={habit.pk: user.pk}, user_ids={user.pk})
    assert _stats(authed, habit)["done"] == 0


def test_the_workers_refresh_stores_what_the_owner_is_then_answered(authed, user, habit):
    make_instance(habit, DAY, AT, status=Status.COMPLETED)
    authed.get("/api/auth/me/")  # the token's state cached
    versions = stats_forget([habit.pk])

    stats_recompute({habit.pk: user.pk}, versions)

    with CaptureQueriesContext(connection) as ctx:
        assert _stats(authed, habit)["done"] == 1
    assert ctx.captured_queries == []
    assert habit_stats_cached(habit.pk)["done"] == 1


def test_a_refresh_overtaken_by_a_newer_change_is_not_sent(user, habit):
    """A worker's numbers computed before a newer change (its version bumped since) are not
    announced: the newer change's own refresh sends its numbers, and an old `stats.updated`
    arriving after them would show the owner stale stats."""
    make_instance(habit, DAY, AT, status=Status.COMPLETED)
    first = stats_forget([habit.pk])
    stats_forget([habit.pk])  # a newer change, after the first refresh was queued

    assert stats_recompute({habit.pk: user.pk}, first) == {}
    latest = stats_forget([habit.pk])
    assert stats_recompute({habit.pk: user.pk}, latest)[habit.pk]["done"] == 1


def test_a_change_in_another_process_shows_where_the_stats_are_held_in_memory(
    authed, habit, monkeypatch
):
    instance = make_instance(habit, DAY, AT)
    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.PENDING)
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the report can tell
    _stats(authed, habit)
    _stats(authed, habit)  # stored by the first, read from Redis and kept by the second
    reads = count_redis_reads(monkeypatch)
    _stats(authed, habit)
    assert reads == [0]  # answered from memory
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # the others don't

    authed.post(f"/api/instances/{instance.pk}/complete/")

    assert _stats(authed, habit)["done"] == 1
