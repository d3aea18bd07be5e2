"""Notes over the API (SPEC §8): any status, the owner only, the frame and `today` follow."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInput, NotFound
from instances.models import HabitInstance, Status
from instances.services import instance_note
from tests.conftest import Api
from tests.factories import UserFactory
from tests.instances.conftest import instance_of

NOW = datetime.now(UTC)
DAY = NOW.date()


def _instance(user, status: str = Status.PENDING, on=DAY, **fields) -> HabitInstance:
    return instance_of(user, on, NOW - timedelta(minutes=5), status, **fields)


@pytest.mark.django_db(transaction=True)
def test_a_note_is_written_seen_by_the_owners_sockets_once_and_in_today(
    utc_user, client, events_of
):
    instance = _instance(utc_user)
    assert client.get("/api/instances/today/").json()[0]["note"] is None  # cached now
    probe = events_of(utc_user)

    response = client.patch(f"/api/instances/{instance.pk}/", {"note": "  knee hurt a bit  "})

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["note"]) == (instance.pk, "pending", "knee hurt a bit")
    [frame] = probe.of_type("instance.", wait=1.0)
    assert frame["type"] == "instance.updated"
    assert (frame["data"]["id"], frame["data"]["note"]) == (instance.pk, "knee hurt a bit")
    # The cached `today` list went with the commit.
    assert [i["note"] for i in client.get("/api/instances/today/").json()] == ["knee hurt a bit"]


@pytest.mark.parametrize(
    "status", [Status.COMPLETED, Status.COMPLETED_LATE, Status.FIX_EXPIRED, Status.SKIPPED,
               Status.SCHEDULED, Status.MISSED],
)  # fmt: skip
def test_any_status_takes_a_note_and_keeps_its_status(utc_user, client, status):
    instance = _instance(utc_user, status=status, on=DAY - timedelta(days=1))

    response = client.patch(f"/api/instances/{instance.pk}/", {"note": "rained"})

    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    assert (instance.status, instance.note) == (status, "rained")


@pytest.mark.parametrize("clear", [None, "", "   "])
def test_null_or_empty_clears_the_note(utc_user, client, clear):
    instance = _instance(utc_user, note="old words")

    response = client.patch(f"/api/instances/{instance.pk}/", {"note": clear})

    assert (response.status_code, response.json()["note"]) == (200, None)
    instance.refresh_from_db()
    assert instance.note == ""


@pytest.mark.django_db(transaction=True)
def test_the_same_note_again_writes_and_tells_nothing(utc_user, client, events_of):
    instance = _instance(utc_user, note="same")
    before = HabitInstance.objects.get(pk=instance.pk).updated_at
    probe = events_of(utc_user)

    response = client.patch(f"/api/instances/{instance.pk}/", {"note": "same"})

    assert (response.status_code, response.json()["note"]) == (200, "same")
    assert probe.of_type("instance.", wait=0.5) == []
    assert HabitInstance.objects.get(pk=instance.pk).updated_at == before


def test_another_users_instance_is_not_found_and_keeps_its_note(utc_user, client):
    theirs = _instance(UserFactory(), note="theirs")

    response = client.patch(f"/api/instances/{theirs.pk}/", {"note": "mine now"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.note == "theirs"
    assert client.patch("/api/instances/999999999/", {"note": "x"}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"note": "x" * 1001}, {"note": 12}, {"note": ["a"]}, {}, {"note": "a\x00b"}],
    ids=["too-long", "a-number", "a-list", "missing", "nul"],
)
def test_bad_input_is_a_422_naming_note_and_nothing_is_written(utc_user, client, body):
    instance = _instance(utc_user, note="kept")

    response = client.patch(f"/api/instances/{instance.pk}/", body)

    assert response.status_code == 422, response.content
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "note"]]
    instance.refresh_from_db()
    assert instance.note == "kept"


def test_a_note_of_exactly_1000_characters_is_kept(utc_user, client):
    instance = _instance(utc_user)

    response = client.patch(f"/api/instances/{instance.pk}/", {"note": "é" * 1000})

    assert (response.status_code, len(response.json()["note"])) == (200, 1000)


def test_the_service_refuses_too_long_and_not_yours_whoever_calls_it(utc_user):
    instance = _instance(utc_user)

    with pytest.raises(InvalidInput) as refused:
        instance_note(instance_id=instance.pk, user_id=utc_user.pk, note="x" * 1001)
    assert [p.field for p in refused.value.problems] == ["note"]
    with pytest.raises(NotFound):
        instance_note(instance_id=instance.pk, user_id=UserFactory().pk, note="x")
    instance.refresh_from_db()
    assert instance.note == ""


def test_a_note_without_auth_is_401(utc_user):
    instance = _instance(utc_user)
    assert Api().patch(f"/api/instances/{instance.pk}/", {"note": "x"}).status_code == 401
