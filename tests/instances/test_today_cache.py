"""`today` is served from Redis, and whatever changes a user's day shows at the next request."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.services import user_update
from core import near_cache, versioned_cache
from core.events import record
from core.schemas import as_json
from habits.models import Habit
from instances import today_cache
from instances.events import INSTANCE_UPDATED
from instances.models import HabitInstance, Status
from instances.schemas import InstanceOut
from instances.selectors import instance_list_today
from instances.services import instances_generate, instances_sweep
from tests.concurrency import run_together
from tests.conftest import Api, answered_from_cache, count_redis_reads
from tests.factories import HabitFactory, UserFactory, make_instance
from tests.system.harness import unreachable_redis

# Committed for real: the lists go after each change's commit.
pytestmark = pytest.mark.django_db(transaction=True)

TODAY = "/api/instances/today/"
DAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
MORNING = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client(owner_api: Api) -> Api:
    return owner_api  # tests/conftest.py: `owner`, in Berlin, logged in


@pytest.fixture
def habit(owner) -> Habit:
    return HabitFactory(user=owner, start_date=DAY, action="read a page", time_of_day=time(10))


@pytest.fixture
def instance(habit) -> HabitInstance:
    return make_instance(habit, DAY, AT)


def _today(client: Api) -> list[dict]:
    response = client.get(TODAY)
    assert response.status_code == 200, response.content
    return response.json()


def _queries(client: Api) -> int:
    with CaptureQueriesContext(connection) as ctx:
        _today(client)
    return len(ctx.captured_queries)


def test_a_second_request_is_answered_from_the_cache_without_a_query(client, instance):
    answered_from_cache(client, TODAY)


def test_the_cached_list_is_the_instance_schema_the_sockets_send(client, instance, habit):
    other = make_instance(
        HabitFactory(user=habit.user, start_date=DAY), DAY, AT - timedelta(hours=1)
    )
    _today(client)

    expected = [as_json(InstanceOut, i) for i in instance_list_today(user=habit.user, today=DAY)]

    assert _today(client) == expected
    assert [i["id"] for i in expected] == [other.pk, instance.pk]


def test_a_completion_shows_at_the_next_request(client, instance):
    assert [i["status"] for i in _today(client)] == [Status.SCHEDULED]

    client.post(f"/api/instances/{instance.pk}/complete/")

    assert [i["status"] for i in _today(client)] == [Status.COMPLETED]


def test_the_sweep_moving_an_instance_shows_at_the_next_request(client, instance, clock):
    _today(client)
    clock.move_to(AT)
    client.login(instance.user.email)  # an access token lives less than the hour that passed

    instances_sweep(now=AT)

    assert [i["status"] for i in _today(client)] == [Status.PENDING]


def test_renaming_pausing_and_deleting_the_habit_show_at_the_next_request(client, instance, habit):
    _today(client)

    client.patch(f"/api/habits/{habit.pk}/", {"action": "read two pages"})
    assert [i["action"] for i in _today(client)] == ["read two pages"]

    client.patch(f"/api/habits/{habit.pk}/", {"is_active": False})
    assert _today(client) == []

    client.patch(f"/api/habits/{habit.pk}/", {"is_active": True})
    assert [i["habit_id"] for i in _today(client)] == [habit.pk]

    client.delete(f"/api/habits/{habit.pk}/")
    assert _today(client) == []


def test_a_new_habit_shows_at_the_next_request(client, owner):
    assert _today(client) == []

    client.post(
        "/api/habits/",
        {
            "action": "stretch",
            "place": "home",
            "time_of_day": "18:00",
            "start_date": DAY.isoformat(),
            "reward_text": "tea",
        },
    )

    assert [i["action"] for i in _today(client)] == ["stretch"]


def test_the_periodic_generation_shows_for_a_user_with_no_socket_open(client, habit):
    assert _today(client) == []  # cached: nothing generated yet

    instances_generate(now=MORNING)

    assert [i["habit_id"] for i in _today(client)] == [habit.pk]


def test_a_new_local_day_is_never_answered_with_yesterdays_list(client, habit, clock):
    make_instance(habit, DAY, AT)
    assert len(_today(client)) == 1
    assert len(_today(client)) == 1  # yesterday's list is now also held in memory
    clock.move_to(datetime(2026, 6, 15, 22, 30, tzinfo=UTC))  # 00:30 on the 16th in Berlin
    client.login(habit.user.email)  # the earlier access token has expired by now

    assert _today(client) == []


def test_a_timezone_change_shows_at_the_next_request(client, owner, habit, clock):
    make_instance(habit, DAY, AT)
    clock.move_to(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    client.login(owner.email)
    assert [i["date"] for i in _today(client)] == ["2026-06-15"]

    user_update(user=owner, timezone_name="Pacific/Kiritimati")  # 02:00 on the 16th there

    assert [i["date"] for i in _today(client)] == ["2026-06-16"]


def test_an_instance_deleted_in_the_admin_leaves_the_list(client, instance, admin_user):
    _today(client)
    request = RequestFactory().post("/admin/")
    request.user = admin_user

    site._registry[HabitInstance].delete_queryset(request, HabitInstance.objects.all())

    assert _today(client) == []


def test_a_completion_in_another_process_shows_where_the_list_is_held_in_memory(
    client, instance, monkeypatch
):
    """This process answers the list from memory (core/near_cache.py); a change made by
    another process reaches it only through Redis's report of the forgotten entry."""
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the report can tell
    _today(client)
    _today(client)  # stored in Redis by the first, read from Redis and kept by the second
    reads = count_redis_reads(monkeypatch)
    _today(client)
    assert reads == [0]  # answered from memory
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # the others don't

    client.post(f"/api/instances/{instance.pk}/complete/")

    assert [i["status"] for i in _today(client)] == [Status.COMPLETED]


def test_a_read_that_began_before_a_change_never_stores_the_old_list(owner, instance, monkeypatch):
    """The race the version guards: a miss reads the DB, a change commits and forgets the
    entry, then the miss would store the list it read before the change."""
    read = today_cache.today_json_from_db

    def read_then_change(user, day):
        body = read(user, day)
        HabitInstance.objects.filter(pk=instance.pk).update(status=Status.PENDING)
        today_cache.today_forget([owner.pk])  # what the change's event does after its commit
        return body

    monkeypatch.setattr(today_cache, "today_json_from_db", read_then_change)
    stale = json.loads(today_cache.today_json(owner))
    monkeypatch.setattr(today_cache, "today_json_from_db", read)

    assert [i["status"] for i in stale] == [Status.SCHEDULED]
    assert [i["status"] for i in json.loads(today_cache.today_json(owner))] == [Status.PENDING]


def test_with_redis_away_today_is_read_from_the_database(owner, instance, monkeypatch):
    away = unreachable_redis()
    monkeypatch.setattr(versioned_cache, "get_redis", lambda: away)

    assert [i["id"] for i in json.loads(today_cache.today_json(owner))] == [instance.pk]
    today_cache.today_forget([owner.pk])  # and a change's forget does not fail for it


def test_another_users_change_leaves_the_cached_list_alone(client, instance):
    _today(client)
    stranger = HabitFactory(user=UserFactory(), start_date=DAY)
    make_instance(stranger, DAY, AT)
    record(INSTANCE_UPDATED, ids=[], user_ids={stranger.user_id})

    assert _queries(client) == 0


def test_a_list_read_while_a_change_commits_is_not_served_after_the_commit(owner, instance):
    """Another request reading before the change commits sees (and caches) the old row; the
    forget after the commit is what sends the next request to the database."""
    with transaction.atomic():
        HabitInstance.objects.filter(pk=instance.pk).update(status=Status.PENDING)
        record(INSTANCE_UPDATED, ids=[], user_ids={owner.pk})
        [meanwhile] = run_together(lambda: json.loads(today_cache.today_json(owner)))

    assert [i["status"] for i in meanwhile] == [Status.SCHEDULED]
    assert [i["status"] for i in json.loads(today_cache.today_json(owner))] == [Status.PENDING]


def test_forgetting_users_in_several_batches_forgets_every_one(monkeypatch):
    monkeypatch.setattr(versioned_cache, "BATCH", 2)
    owners = UserFactory.create_batch(5)
    for owner in owners:
        make_instance(HabitFactory(user=owner, start_date=DAY), DAY, AT)
        today_cache.today_json(owner)  # cached while scheduled
    HabitInstance.objects.update(status=Status.PENDING)  # behind the services' back

    today_cache.today_forget(owner.pk for owner in owners)

    statuses = [json.loads(today_cache.today_json(owner))[0]["status"] for owner in owners]
    assert statuses == [Status.PENDING] * 5
