"""The habit list and the public feed are served from their caches, and every change that
shows in them shows at the next request (habits/list_cache.py), whatever its door."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import user_deactivate, user_update
from core import near_cache, versioned_cache
from core.events import record
from habits.models import Habit
from instances.events import PROGRAM_FINISHED
from instances.models import HabitInstance, Status
from instances.services import instances_generate, instances_sweep
from tests.conftest import Api, answered_from_cache, count_redis_reads
from tests.factories import HabitFactory, UserFactory, make_instance
from transfer.events import IMPORT_FINISHED

# Committed for real: the caches are forgotten after each change's commit.
pytestmark = pytest.mark.django_db(transaction=True)

HABITS = "/api/habits/"
FEED = "/api/habits/public/"
DAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
MORNING = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
NEW_HABIT = {"action": "stretch", "time_of_day": "18:00", "reward_text": "tea"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client(owner_api: Api) -> Api:
    return owner_api  # tests/conftest.py: `owner`, in Berlin, logged in


@pytest.fixture
def habit(owner) -> Habit:
    return HabitFactory(user=owner, start_date=DAY, action="read", time_of_day=time(10))


def _list(client: Api, query: str = "") -> dict:
    response = client.get(HABITS + query)
    assert response.status_code == 200, response.content
    return response.json()


def _feed() -> dict:
    response = Api().get(FEED)
    assert response.status_code == 200, response.content
    return response.json()


def _actions(page: dict) -> list[str]:
    return [h["action"] for h in page["items"]]


def _program(client: Api) -> dict:
    [habit] = _list(client)["items"]
    return habit["program"]


def _admin_request(admin_user: User) -> object:
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    return request


def test_a_cached_page_is_the_page_the_api_rendered(client, habit):
    first = answered_from_cache(client, HABITS)

    assert first.json()["count"] == 1
    assert first.json()["items"][0]["program"]["limit"] == habit.repeat_limit


def test_each_page_and_filter_is_its_own_answer(client, owner, habit):
    HabitFactory(user=owner, action="walk", is_active=False)

    assert _actions(_list(client)) == ["walk", "read"]
    assert _actions(_list(client, "?limit=1")) == ["walk"]
    assert _actions(_list(client, "?limit=1&offset=1")) == ["read"]
    assert _actions(_list(client, "?is_active=false")) == ["walk"]
    assert _actions(_list(client, "?is_active=true")) == ["read"]


def test_bad_page_parameters_are_refused_naming_the_field(client):
    response = client.get(HABITS + "?limit=1000")

    assert response.status_code == 422
    assert "limit" in str(response.json())


def test_creating_updating_and_deleting_through_the_api_show_at_the_next_request(client, habit):
    _list(client)

    client.post(HABITS, NEW_HABIT)
    assert _actions(_list(client)) == ["stretch", "read"]

    client.patch(f"{HABITS}{habit.pk}/", {"action": "read more"})
    assert _actions(_list(client)) == ["stretch", "read more"]

    client.delete(f"{HABITS}{habit.pk}/")
    assert _actions(_list(client)) == ["stretch"]


def test_a_habit_edited_in_the_admin_shows_at_the_next_request(client, habit, admin_user):
    _list(client)
    habit.action = "read aloud"

    site._registry[Habit].save_model(_admin_request(admin_user), habit, None, True)

    assert _actions(_list(client)) == ["read aloud"]


def test_a_habit_deleted_in_the_admin_leaves_the_list(client, habit, admin_user):
    _list(client)

    site._registry[Habit].delete_queryset(_admin_request(admin_user), Habit.objects.all())

    assert _list(client)["count"] == 0


def test_the_program_follows_completions_skips_the_sweep_and_deletions(client, habit, clock):
    instance = make_instance(habit, DAY, AT)
    assert _program(client)["done"] == 0  # cached

    client.post(f"/api/instances/{instance.pk}/complete/")  # instance.completed
    assert _program(client)["done"] == 1

    other = make_instance(habit, date(2026, 6, 16), datetime(2026, 6, 16, 8, tzinfo=UTC))
    client.post(f"/api/instances/{other.pk}/skip/", {"reason": "sick"})  # instance.skipped
    assert _program(client)["skipped"] == 1

    client.delete(f"/api/instances/{other.pk}/skip/")  # instance.updated
    assert _program(client)["skipped"] == 0

    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.SCHEDULED, completed_at=None)
    clock.move_to(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    client.login(habit.user.email)
    instances_sweep(now=datetime(2026, 6, 15, 12, 0, tzinfo=UTC))  # instance.updated (swept)
    assert _program(client)["failed"] == 1


def test_generated_instances_show_in_the_program(client, habit):
    before = _program(client)["remaining"]

    instances_generate(now=MORNING)  # instance.created

    assert _program(client)["remaining"] < before


def test_an_instance_deleted_in_the_admin_shows_in_the_program(client, habit, admin_user):
    make_instance(habit, DAY, AT, status=Status.COMPLETED)
    assert _program(client)["done"] == 1

    site._registry[HabitInstance].delete_queryset(
        _admin_request(admin_user), HabitInstance.objects.all()
    )  # instance.deleted

    assert _program(client)["done"] == 0


def test_a_finished_program_and_an_import_show_at_the_next_request(client, owner, habit):
    _list(client)
    Habit.objects.filter(pk=habit.pk).update(action="changed behind the back")
    record(PROGRAM_FINISHED, habit_id=habit.pk, user_id=owner.pk, done=21, limit=21)
    assert _actions(_list(client)) == ["changed behind the back"]

    HabitFactory(user=owner, action="imported")
    record(IMPORT_FINISHED, job_id=0, user_id=owner.pk, habit_ids=[])
    assert _actions(_list(client)) == ["imported", "changed behind the back"]


def test_a_timezone_change_shows_at_the_next_request(client, owner, habit):
    _list(client)
    Habit.objects.filter(pk=habit.pk).update(action="changed behind the back")

    user_update(user=owner, timezone_name="Asia/Tokyo")

    assert _actions(_list(client)) == ["changed behind the back"]


def test_another_users_change_leaves_the_cached_list_alone(client, habit):
    _list(client)
    stranger = UserFactory()
    Api().login(stranger.email)
    HabitFactory(user=stranger)
    record(IMPORT_FINISHED, job_id=0, user_id=stranger.pk, habit_ids=[])

    with CaptureQueriesContext(connection) as ctx:
        _list(client)

    assert ctx.captured_queries == []


def test_a_change_in_another_process_shows_where_the_page_is_held_in_memory(
    client, habit, monkeypatch
):
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the report can tell
    _list(client)
    _list(client)  # stored by the first, read from Redis and kept by the second
    reads = count_redis_reads(monkeypatch)
    _list(client)
    assert reads == [0]  # answered from memory
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # the others don't

    client.patch(f"{HABITS}{habit.pk}/", {"action": "read more"})

    assert _actions(_list(client)) == ["read more"]


# --- the public feed --------------------------------------------------------------------------


def test_the_feed_is_one_answer_for_everyone(owner):
    HabitFactory(user=owner, is_public=True, action="public")
    first = Api().get(FEED)
    other = Api()
    other.login(UserFactory().email)

    with CaptureQueriesContext(connection) as ctx:
        again = other.get(FEED)

    assert ctx.captured_queries == []
    assert again.content == first.content
    assert _actions(first.json()) == ["public"]


def test_public_habits_created_updated_and_deleted_show_at_the_next_request(client, habit):
    assert _feed()["count"] == 0

    client.post(HABITS, {**NEW_HABIT, "is_public": True})
    assert _actions(_feed()) == ["stretch"]

    client.patch(f"{HABITS}{habit.pk}/", {"is_public": True})
    assert _actions(_feed()) == ["stretch", "read"]

    client.patch(f"{HABITS}{habit.pk}/", {"place": "sofa"})
    assert [h["place"] for h in _feed()["items"]][1] == "sofa"

    client.patch(f"{HABITS}{habit.pk}/", {"is_public": False})
    assert _actions(_feed()) == ["stretch"]

    stretch = Habit.objects.get(action="stretch")
    client.delete(f"{HABITS}{stretch.pk}/")
    assert _feed()["count"] == 0


def test_a_private_habits_change_leaves_the_feed_cached(client, habit, owner):
    HabitFactory(user=owner, is_public=True)
    _feed()

    client.patch(f"{HABITS}{habit.pk}/", {"action": "private, still"})
    with CaptureQueriesContext(connection) as ctx:
        _feed()

    assert ctx.captured_queries == []


def test_a_public_habit_edited_in_the_admin_shows_in_the_feed(owner, admin_user):
    habit = HabitFactory(user=owner, is_public=True, action="public")
    _feed()
    habit.action = "edited"

    site._registry[Habit].save_model(_admin_request(admin_user), habit, None, True)

    assert _actions(_feed()) == ["edited"]


def test_a_deactivated_or_deleted_owner_takes_their_habits_out_of_the_feed(owner, admin_user):
    HabitFactory(user=owner, is_public=True, action="mine")
    other = HabitFactory(is_public=True, action="theirs")
    assert _feed()["count"] == 2

    user_deactivate(user=owner)  # user.tokens_ended
    assert _actions(_feed()) == ["theirs"]

    owner.is_active = True
    owner.save()
    assert _feed()["count"] == 2

    site._registry[User].delete_queryset(
        _admin_request(admin_user), User.objects.filter(pk=other.user_id)
    )  # user.changed
    assert _actions(_feed()) == ["mine"]


def test_an_import_of_public_habits_shows_in_the_feed(owner):
    _feed()
    HabitFactory(user=owner, is_public=True, action="imported")

    record(IMPORT_FINISHED, job_id=0, user_id=owner.pk, habit_ids=[])

    assert _actions(_feed()) == ["imported"]


def test_the_feed_is_answered_from_memory_with_no_redis_round_trip(owner, monkeypatch):
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)
    HabitFactory(user=owner, is_public=True)
    _feed()
    _feed()  # stored by the first, read from Redis and kept by the second
    reads = count_redis_reads(monkeypatch)

    _feed()

    assert reads == [0]


def test_a_page_of_habits_is_answered_from_memory_with_no_redis_round_trip(
    client, habit, monkeypatch
):
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)
    _list(client, "?limit=5")
    _list(client, "?limit=5")
    reads = count_redis_reads(monkeypatch)

    _list(client, "?limit=5")

    assert reads == [0]
