"""Skips and pauses over the API (SPEC §7), their events, and their races (RELIABILITY K1)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from instances.models import HabitInstance, Pause, Source, Status
from instances.services import instance_complete, instance_skip, instances_sweep
from tests.concurrency import run_together
from tests.factories import HabitFactory, UserFactory, make_instance
from tests.instances.conftest import instance_of

# Real time (a token is checked against it): the user's zone is UTC, so today is DAY.
NOW = datetime.now(UTC)
DAY = NOW.date()
AT = datetime(DAY.year, DAY.month, DAY.day, 8, tzinfo=UTC)
NOON = AT + timedelta(hours=4)


def _at(on: date) -> datetime:
    return datetime(on.year, on.month, on.day, 8, tzinfo=UTC)


def _instance(user, on: date = DAY, status: str = Status.PENDING, **fields) -> HabitInstance:
    return instance_of(user, on, fields.pop("at", _at(on)), status, **fields)


# --- skip and undo ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_skip_with_a_reason_and_note_is_seen_by_the_owners_sockets_once(
    utc_user, client, events_of
):
    instance = _instance(utc_user)
    probe = events_of(utc_user)

    response = client.post(
        f"/api/instances/{instance.pk}/skip/", {"reason": "sick", "note": "flu, day 2"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["skip_reason"], body["note"]) == ("skipped", "sick", "flu, day 2")
    [frame] = probe.of_type("instance.updated", wait=1.0)
    assert (frame["data"]["id"], frame["data"]["status"]) == (instance.pk, "skipped")
    today = [i for i in client.get("/api/instances/today/").json() if i["id"] == instance.pk]
    assert [i["status"] for i in today] == ["skipped"]  # the cached list went with the commit


def test_skipping_twice_changes_nothing_and_done_or_expired_is_refused(utc_user, client):
    instance = _instance(utc_user)
    assert client.post(f"/api/instances/{instance.pk}/skip/", {"reason": "rest"}).status_code == 200
    done = client.post(f"/api/instances/{instance.pk}/complete/")
    assert done.status_code == 409  # undo the skip first: one state at a time
    again = client.post(f"/api/instances/{instance.pk}/skip/", {"reason": "sick"})
    assert (again.status_code, again.json()["skip_reason"]) == (200, "rest")

    for status in (Status.COMPLETED, Status.FIX_EXPIRED):
        final = _instance(
            utc_user,
            on=DAY - timedelta(days=1),
            status=status,
            completed_at=AT if status == Status.COMPLETED else None,
        )
        refused = client.post(f"/api/instances/{final.pk}/skip/", {})
        assert refused.status_code == 409, refused.content
        final.refresh_from_db()
        assert final.status == status


def test_another_users_instance_is_not_found_and_bad_input_names_the_field(utc_user, client):
    theirs = _instance(UserFactory())
    assert client.post(f"/api/instances/{theirs.pk}/skip/", {}).status_code == 404
    assert client.delete(f"/api/instances/{theirs.pk}/skip/").status_code == 404

    mine = _instance(utc_user)
    bad = client.post(f"/api/instances/{mine.pk}/skip/", {"reason": "bored"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "reason"
    long = client.post(f"/api/instances/{mine.pk}/skip/", {"note": "x" * 1001})
    assert long.status_code == 422
    assert long.json()["detail"][0]["loc"][-1] == "note"
    mine.refresh_from_db()
    assert (mine.status, mine.note) == (Status.PENDING, "")


def test_undo_gives_back_the_status_by_the_clock(utc_user, client):
    instance = _instance(utc_user, at=datetime.now(UTC) - timedelta(minutes=5))  # grace: 30 min
    client.post(f"/api/instances/{instance.pk}/skip/", {"reason": "rest"})

    undone = client.delete(f"/api/instances/{instance.pk}/skip/")

    assert undone.status_code == 200
    assert (undone.json()["status"], undone.json()["skip_reason"]) == ("pending", None)
    assert client.delete(f"/api/instances/{instance.pk}/skip/").status_code == 409  # not skipped


def test_the_database_refuses_a_skip_reason_without_a_skip_and_an_unknown_reason(utc_user):
    from django.db import IntegrityError, transaction

    instance = _instance(utc_user)
    for change in (
        {"skip_reason": "sick"},
        {"status": "skipped", "skip_reason": "bored"},
        {"status": "skipped", "skip_reason": ""},
        {"status": "sleeping"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            HabitInstance.objects.filter(pk=instance.pk).update(**change)


# --- races (K1) ------------------------------------------------------------------------------

pytestmark_races = pytest.mark.django_db(transaction=True)


@pytestmark_races
def test_a_skip_racing_a_completion_ends_with_one_change_and_one_event(utc_user, events_of):
    for _ in range(5):
        instance = _instance(utc_user, status=Status.PENDING)
        probe = events_of(utc_user)

        results = run_together(
            lambda i=instance: instance_skip(instance_id=i.pk, user_id=utc_user.pk),
            lambda i=instance: instance_complete(
                instance_id=i.pk,
                user_id=utc_user.pk,
                at=AT + timedelta(minutes=1),
                source=Source.WEB,
            ),
        )

        instance.refresh_from_db()
        assert instance.status in (Status.SKIPPED, Status.COMPLETED)
        loser = results[1] if instance.status == Status.SKIPPED else results[0]
        assert isinstance(loser, Exception), results  # the second one is refused (409)
        assert len(probe.of_type("instance.updated", wait=0.5)) == 1


@pytestmark_races
def test_a_skip_racing_the_sweep_ends_skipped_or_refused_never_both(utc_user):
    instances = [_instance(utc_user, on=DAY - timedelta(days=n)) for n in range(1, 6)]

    results = run_together(
        *[lambda i=i: instance_skip(instance_id=i.pk, user_id=utc_user.pk) for i in instances],
        lambda: instances_sweep(now=NOON),
    )

    for instance, result in zip(instances, results, strict=False):
        instance.refresh_from_db()
        if isinstance(result, HabitInstance):
            assert instance.status == Status.SKIPPED  # the sweep never moves a skipped one
        else:
            assert instance.status == Status.FIX_EXPIRED  # swept first: the skip was refused
    instances_sweep(now=NOON + timedelta(hours=1))
    assert all(
        HabitInstance.objects.get(pk=i.pk).status in (Status.SKIPPED, Status.FIX_EXPIRED)
        for i in instances
    )


@pytestmark_races
def test_a_pause_created_while_the_sweep_runs_changes_each_instance_once(utc_user, events_of):
    from instances.services import pause_create

    instances = [_instance(utc_user, on=DAY - timedelta(days=n), status=Status.SCHEDULED)
                 for n in range(1, 7)]  # fmt: skip
    probe = events_of(utc_user)

    run_together(
        lambda: pause_create(
            user=utc_user, start_date=DAY - timedelta(days=6), end_date=DAY - timedelta(days=1)
        ),
        lambda: instances_sweep(now=NOON),
    )

    final = {i.pk: HabitInstance.objects.get(pk=i.pk).status for i in instances}
    assert set(final.values()) <= {Status.SKIPPED, Status.FIX_EXPIRED}
    updated = [f["data"] for f in probe.drain(1.0) if f["type"] == "instance.updated"]
    assert sorted(d["id"] for d in updated) == sorted(final)  # each one changed once
    assert {d["id"]: d["status"] for d in updated} == final
    instances_sweep(now=NOON + timedelta(hours=1))  # nothing final moves afterwards
    assert {i.pk: HabitInstance.objects.get(pk=i.pk).status for i in instances} == final


# --- pauses ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_pause_skips_the_open_instances_on_its_dates_and_leaves_final_ones(
    utc_user, client, events_of
):
    inside = [
        _instance(utc_user, on=DAY + timedelta(days=n), status=Status.SCHEDULED) for n in range(3)
    ]
    done = _instance(utc_user, on=DAY - timedelta(days=1), status=Status.COMPLETED, completed_at=AT)
    outside = _instance(utc_user, on=DAY + timedelta(days=5), status=Status.SCHEDULED)
    probe = events_of(utc_user)

    response = client.post(
        "/api/pauses/",
        {
            "start_date": str(DAY - timedelta(days=1)),
            "end_date": str(DAY + timedelta(days=2)),
            "reason": "travel",
        },
    )

    assert response.status_code == 201, response.content
    pause = response.json()
    assert (pause["habit_id"], pause["reason"]) == (None, "travel")
    statuses = {i.pk: HabitInstance.objects.get(pk=i.pk) for i in [*inside, done, outside]}
    assert {statuses[i.pk].status for i in inside} == {Status.SKIPPED}
    assert {statuses[i.pk].skip_reason for i in inside} == {"travel"}
    assert statuses[done.pk].status == Status.COMPLETED
    assert statuses[outside.pk].status == Status.SCHEDULED
    frames = probe.drain(1.0)
    assert [f["data"]["id"] for f in frames if f["type"] == "pause.created"] == [pause["id"]]
    updated = [f for f in frames if f["type"] == "instance.updated"]
    assert sorted(f["data"]["id"] for f in updated) == sorted(i.pk for i in inside)


def test_pauses_listed_not_ended_and_bad_ranges_refused_naming_end_date(utc_user, client):
    def pause(start: int, end: int) -> object:
        dates = [str(DAY + timedelta(days=n)) for n in (start, end)]
        return client.post("/api/pauses/", {"start_date": dates[0], "end_date": dates[1]})

    over, soon, now = pause(-14, -5), pause(5, 6), pause(-1, 1)
    listed = client.get("/api/pauses/").json()
    backwards, too_long = pause(5, 4), pause(0, 365)

    assert {over.status_code, soon.status_code, now.status_code} == {201}
    assert [p["id"] for p in listed] == [now.json()["id"], soon.json()["id"]]
    for refused in (backwards, too_long):
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"][-1] == "end_date"
    assert Pause.objects.filter(user=utc_user).count() == 3


def test_a_pause_of_another_users_habit_or_pause_is_refused(utc_user, client):
    theirs = HabitFactory(user=UserFactory())
    refused = client.post(
        "/api/pauses/", {"start_date": str(DAY), "end_date": str(DAY), "habit_id": theirs.pk}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "habit_id"
    their_pause = Pause.objects.create(user=theirs.user, start_date=DAY, end_date=DAY)
    assert client.delete(f"/api/pauses/{their_pause.pk}/").status_code == 404
    assert client.post(f"/api/pauses/{their_pause.pk}/end/").status_code == 404
    assert Pause.objects.filter(pk=their_pause.pk).exists()


def test_deleting_a_pause_gives_back_by_the_clock_what_only_it_covers(utc_user, client):
    habit = HabitFactory(user=utc_user, start_date=DAY - timedelta(days=30))
    days = [
        make_instance(
            habit, DAY + timedelta(days=n), _at(DAY + timedelta(days=n)), status=Status.SCHEDULED
        )
        for n in range(1, 5)
    ]
    d = [str(DAY + timedelta(days=n)) for n in range(5)]
    everything = client.post("/api/pauses/", {"start_date": d[1], "end_date": d[3]}).json()
    this_one = client.post(
        "/api/pauses/",
        {"start_date": d[3], "end_date": d[4], "habit_id": habit.pk, "reason": "sick"},
    ).json()
    assert HabitInstance.objects.get(pk=days[3].pk).status == Status.SKIPPED
    deleted = client.delete(f"/api/pauses/{everything['id']}/")

    assert deleted.status_code == 204
    after = {i.pk: HabitInstance.objects.get(pk=i.pk) for i in days}
    assert [after[i.pk].status for i in days[:2]] == [Status.SCHEDULED, Status.SCHEDULED]
    assert (after[days[2].pk].status, after[days[2].pk].pause_id) == (
        Status.SKIPPED,
        this_one["id"],
    )
    assert after[days[2].pk].skip_reason == "sick"  # the other pause covers it now
    assert after[days[3].pk].pause_id == this_one["id"]


def test_ending_a_pause_keeps_the_past_skipped_and_gives_back_today(utc_user, client):
    habit = HabitFactory(user=utc_user, start_date=DAY - timedelta(days=30))
    now = datetime.now(UTC)
    days = [
        make_instance(habit, DAY - timedelta(days=1), now - timedelta(days=1)),
        make_instance(habit, DAY, now - timedelta(minutes=5)),  # under way: grace 30 min
        make_instance(habit, DAY + timedelta(days=1), now + timedelta(days=1)),
    ]
    pause = client.post(
        "/api/pauses/",
        {"start_date": str(DAY - timedelta(days=1)), "end_date": str(DAY + timedelta(days=5))},
    ).json()
    assert {HabitInstance.objects.get(pk=i.pk).status for i in days} == {Status.SKIPPED}

    ended = client.post(f"/api/pauses/{pause['id']}/end/")

    assert (ended.status_code, ended.json()["end_date"]) == (200, str(DAY - timedelta(days=1)))
    statuses = [HabitInstance.objects.get(pk=i.pk).status for i in days]
    assert statuses == [Status.SKIPPED, Status.PENDING, Status.SCHEDULED]  # today: by the clock


def test_ending_a_pause_not_begun_deletes_it(utc_user, client):
    pause = client.post(
        "/api/pauses/",
        {"start_date": str(DAY + timedelta(days=2)), "end_date": str(DAY + timedelta(days=3))},
    ).json()
    assert client.post(f"/api/pauses/{pause['id']}/end/").status_code == 204
    assert not Pause.objects.filter(pk=pause["id"]).exists()
