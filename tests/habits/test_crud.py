import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from habits.models import Habit
from tests.conftest import Api
from tests.factories import HabitFactory, PleasantHabitFactory, UserFactory

pytestmark = pytest.mark.django_db

HABITS = "/api/habits/"


def test_list_shows_only_own_habits_newest_first(authed, user):
    mine = HabitFactory.create_batch(3, user=user)
    HabitFactory.create_batch(2)

    body = authed.get(HABITS).json()

    assert body["count"] == 3
    assert [h["id"] for h in body["items"]] == [h.pk for h in reversed(mine)]


def test_list_paginates_with_limit_and_offset(authed, user):
    habits = HabitFactory.create_batch(25, user=user)
    newest_first = [h.pk for h in reversed(habits)]

    first = authed.get(HABITS).json()
    second = authed.get(f"{HABITS}?limit=10&offset=20").json()

    assert first["count"] == second["count"] == 25
    assert [h["id"] for h in first["items"]] == newest_first[:20]
    assert [h["id"] for h in second["items"]] == newest_first[20:]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "offset=-1",
        "offset=99999999999999999999",
        "limit=abc",
        "is_active=maybe",
    ],
)
def test_bad_pagination_or_filter_values_are_422(authed, query):
    response = authed.get(f"{HABITS}?{query}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_list_filters_by_active_and_pleasant(authed, user):
    paused = HabitFactory(user=user, is_active=False)
    pleasant = PleasantHabitFactory(user=user)
    HabitFactory(user=user)

    inactive = authed.get(f"{HABITS}?is_active=false").json()["items"]
    pleasant_ones = authed.get(f"{HABITS}?is_pleasant=true").json()["items"]

    assert [h["id"] for h in inactive] == [paused.pk]
    assert [h["id"] for h in pleasant_ones] == [pleasant.pk]


def test_list_query_count_does_not_grow_with_the_page(authed, user):
    def queries_for(limit: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert authed.get(f"{HABITS}?limit={limit}").status_code == 200
        return len(ctx.captured_queries)

    HabitFactory.create_batch(50, user=user)
    queries_for(3)  # caches the token's state

    # Each page read once (count, page, the page's programs), then cached (habits/list_cache.py).
    assert queries_for(50) == queries_for(1) == 3
    assert queries_for(50) == queries_for(1) == 0


def test_read_one_own_habit(authed, user):
    habit = HabitFactory(user=user)

    response = authed.get(f"{HABITS}{habit.pk}/")

    assert response.status_code == 200
    assert response.json()["action"] == habit.action


def test_patch_changes_only_the_sent_fields(authed, user):
    habit = HabitFactory(user=user, place="park", grace_minutes=15, is_public=False)

    response = authed.patch(f"{HABITS}{habit.pk}/", {"place": "gym", "is_public": True})

    assert response.status_code == 200
    habit.refresh_from_db()
    assert (habit.place, habit.is_public) == ("gym", True)
    assert (habit.grace_minutes, habit.reward_text, habit.action) == (
        15,
        "a cup of tea",
        habit.action,
    )


def test_patch_switching_reward_kind_in_one_request(authed, user):
    habit = HabitFactory(user=user)
    bath = PleasantHabitFactory(user=user)

    response = authed.patch(
        f"{HABITS}{habit.pk}/", {"reward_text": None, "related_pleasant_habit": bath.pk}
    )

    assert response.status_code == 200
    assert response.json()["related_pleasant_habit"] == bath.pk


def test_patch_that_breaks_a_rule_is_422_and_changes_nothing(authed, user):
    habit = HabitFactory(user=user)

    response = authed.patch(f"{HABITS}{habit.pk}/", {"reward_text": None, "place": "moon"})

    assert response.status_code == 422
    habit.refresh_from_db()
    assert (habit.reward_text, habit.place) == ("a cup of tea", "home")


def test_patch_with_null_for_a_required_field_is_422(authed, user):
    habit = HabitFactory(user=user)

    response = authed.patch(f"{HABITS}{habit.pk}/", {"action": None})

    assert response.status_code == 422
    assert ["body", "action"] in [e["loc"] for e in response.json()["detail"]]


def test_delete_removes_the_habit(authed, user):
    habit = HabitFactory(user=user)

    assert authed.delete(f"{HABITS}{habit.pk}/").status_code == 204
    assert not Habit.objects.filter(pk=habit.pk).exists()


def test_deleting_a_referenced_pleasant_habit_is_409_naming_who_points_to_it(authed, user):
    bath = PleasantHabitFactory(user=user)
    run = HabitFactory(user=user, action="run", reward_text=None, related_pleasant_habit=bath)

    response = authed.delete(f"{HABITS}{bath.pk}/")

    assert response.status_code == 409
    assert f"#{run.pk} 'run'" in response.json()["detail"]
    assert Habit.objects.filter(pk=bath.pk).exists()


def test_making_a_referenced_pleasant_habit_useful_is_409(authed, user):
    bath = PleasantHabitFactory(user=user)
    HabitFactory(user=user, reward_text=None, related_pleasant_habit=bath)

    response = authed.patch(f"{HABITS}{bath.pk}/", {"is_pleasant": False, "reward_text": "soap"})

    assert response.status_code == 409
    bath.refresh_from_db()
    assert bath.is_pleasant


def test_an_unreferenced_pleasant_habit_may_become_useful(authed, user):
    bath = PleasantHabitFactory(user=user)

    response = authed.patch(f"{HABITS}{bath.pk}/", {"is_pleasant": False, "reward_text": "soap"})

    assert response.status_code == 200


@pytest.mark.parametrize("verb", ["get", "patch", "delete"])
def test_another_users_habit_is_404_and_untouched(authed, verb):
    theirs = HabitFactory(user=UserFactory(), place="their place")

    response = getattr(authed, verb)(
        f"{HABITS}{theirs.pk}/", **({"json_body": {"place": "mine"}} if verb == "patch" else {})
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.place == "their place"


@pytest.mark.parametrize("path", ["0", "-1", "99999999999999999999999", "abc"])
def test_impossible_ids_are_422_naming_the_path_field(authed, path):
    response = authed.get(f"{HABITS}{path}/")

    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["path", "habit_id"]]


def test_habits_need_a_token(api):
    assert api.get(HABITS).status_code == 401
    assert api.post(HABITS, {"action": "x"}).status_code == 401


def test_public_feed_lists_everyones_public_habits_without_owner(user):
    HabitFactory(user=user, is_public=True, action="mine public")
    HabitFactory(is_public=True, action="theirs public")
    HabitFactory(is_public=False, action="private")

    body = Api().get(f"{HABITS}public/").json()  # anonymous

    assert body["count"] == 2
    assert {h["action"] for h in body["items"]} == {"mine public", "theirs public"}
    for item in body["items"]:
        assert "user" not in item
        assert "email" not in str(item)
        assert user.email not in str(item)


def test_public_feed_is_read_only(authed):
    assert authed.post(f"{HABITS}public/", {"action": "x"}).status_code == 405


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (
            '{"action": "run", "time_of_day": "07:00", "reward_text": "tea", "owner": 1}',
            "application/json",
        ),
        (
            '{"action": "r\\u0000un", "time_of_day": "07:00", "reward_text": "tea"}',
            "application/json",
        ),
        (
            '{"action": "' + "x" * 10_000 + '", "time_of_day": "07:00", "reward_text": "tea"}',
            "application/json",
        ),
        ('{"action": ["run"], "time_of_day": 7, "reward_text": {"a": 1}}', "application/json"),
        (
            '{"action": "run", "time_of_day": "07:00", "reward_text": "tea", '
            '"is_public": "yes please"}',
            "application/json",
        ),
        ("{oops", "application/json"),
        ("action=run", "application/x-www-form-urlencoded"),
    ],
)
def test_garbage_habit_bodies_are_4xx_and_write_nothing(authed, raw, content_type):
    response = authed.post(HABITS, raw=raw, content_type=content_type)

    assert response.status_code == (422 if content_type == "application/json" else 415)
    assert not Habit.objects.exists()


def test_openapi_shows_the_habit_endpoints_with_schemas(api):
    schema = api.get("/api/openapi.json").json()

    assert {"/api/habits/", "/api/habits/{habit_id}/", "/api/habits/public/"} <= set(
        schema["paths"]
    )
    assert {"HabitIn", "HabitOut", "PublicHabitOut"} <= set(schema["components"]["schemas"])
