"""The calendar feed (SPEC §9): a secret URL, revocable, serving RFC 5545 built with icalendar,
read back here with icalendar's own parser."""

import hashlib
import logging
import os
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from icalendar import Calendar

from calendars.models import CalendarFeed
from instances import generation
from instances.localdays import local_day
from instances.models import HabitInstance, Pause, SkipReason, Source, Status
from tests.conftest import Api
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Ten days before Berlin moves to summer time (29 March 2026, 02:00 -> 03:00).
MARCH = datetime(2026, 3, 19, 12, 0, tzinfo=UTC)


def _subscribe(user) -> str:
    api = Api()
    api.login(user.email)
    response = api.post("/api/calendar/")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def _fetch(url: str):
    return Client().get(urlsplit(url).path)


def _calendar(url: str) -> Calendar:
    response = _fetch(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def _starts(calendar: Calendar) -> list[datetime]:
    return sorted(e.start for e in calendar.walk("VEVENT"))


def test_subscribing_answers_an_absolute_url_whose_secret_is_kept_only_as_a_hash():
    user = UserFactory()
    url = _subscribe(user)

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "testserver")
    assert parts.path.startswith("/cal/")
    assert parts.path.endswith(".ics")
    secret = parts.path.removeprefix("/cal/").removesuffix(".ics")
    assert len(secret) >= 22  # URL-safe base64: 22 characters carry 128 bits
    feed = CalendarFeed.objects.get(user=user)
    assert feed.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM calendars_calendarfeed")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(secret in str(value) for value in rows[0])


def test_the_feed_has_the_owners_vtimezone_and_local_times_across_a_dst_change():
    user = UserFactory(timezone="Europe/Berlin")
    habit = HabitFactory(
        user=user, action="Run", place="the park", time_of_day=time(7, 0),
        grace_minutes=45, start_date=date(2026, 3, 26),
    )  # fmt: skip
    with time_machine.travel(MARCH, tick=False):
        url = _subscribe(user)
        calendar = _calendar(url)
        raw = _fetch(url).content

    assert (str(calendar["version"]), str(calendar["prodid"])) == (
        "2.0", "-//Atomic Habits Tracker//Calendar feed//EN",
    )  # fmt: skip
    assert all("dtstamp" in e and "uid" in e for e in calendar.walk("VEVENT"))
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Berlin"
    assert {str(c["tzname"]) for c in zone.walk() if c.name in ("STANDARD", "DAYLIGHT")} >= {
        "CET", "CEST",
    }  # fmt: skip
    events = _events(calendar)
    before = events[f"habit-{habit.pk}-20260328@atomic-habits.calendar"]
    after = events[f"habit-{habit.pk}-20260330@atomic-habits.calendar"]
    for event in (before, after):
        assert event["dtstart"].params["TZID"] == "Europe/Berlin"
        assert (event.start.hour, event.start.minute) == (7, 0)
        assert event.end - event.start == timedelta(minutes=45)  # DTEND: the grace deadline
        assert str(event["summary"]) == "Run @ the park"
        assert not event.walk("VALARM")
    assert before.start.utcoffset() == timedelta(hours=1)
    assert after.start.utcoffset() == timedelta(hours=2)
    assert before.start.astimezone(UTC) == datetime(2026, 3, 28, 6, 0, tzinfo=UTC)
    assert after.start.astimezone(UTC) == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    # The wall time itself is written, named by the VTIMEZONE shipped in the feed.
    assert b"DTSTART;TZID=Europe/Berlin:20260330T070000" in raw
    assert b"DTSTART;TZID=Europe/Berlin:20260328T070000" in raw


@pytest.mark.parametrize(
    ("zone", "day", "at", "length"),
    [
        # Berlin turns back 03:00 -> 02:00: 02:30 + 30 min is the second 02:00.
        ("Europe/Berlin", date(2027, 10, 31), time(2, 30), timedelta(minutes=30)),
        # Lord Howe turns back half an hour at 02:00: 01:45 + 30 min is the second 01:45.
        ("Australia/Lord_Howe", date(2027, 4, 4), time(1, 45), timedelta(minutes=30)),
    ],
)
def test_an_event_ending_in_a_repeated_hour_says_its_length_not_a_wall_time(zone, day, at, length):
    """RFC 5545 reads a repeated wall time as its first: a DTEND there was before (or at) the
    DTSTART, which calendars drop or draw wrong. Such an event carries its DURATION."""
    user = UserFactory(timezone=zone)
    habit = HabitFactory(user=user, time_of_day=at, grace_minutes=30, start_date=day)
    with time_machine.travel(datetime.combine(day, time(12), UTC) - timedelta(days=5)):
        url = _subscribe(user)
        raw = _fetch(url).content
    event = _events(Calendar.from_ical(raw))[
        f"habit-{habit.pk}-{day:%Y%m%d}@atomic-habits.calendar"
    ]

    start = local_day(zone, day).resolve(at)
    assert event.start.astimezone(UTC) == start
    assert "dtend" not in event
    assert event["duration"].dt == length
    # Every other day still ends with a plain DTEND.
    other = _events(Calendar.from_ical(raw))[
        f"habit-{habit.pk}-{day + timedelta(days=1):%Y%m%d}@atomic-habits.calendar"
    ]
    assert other.end - other.start == length


def test_planned_occurrences_are_there_before_generation_and_keep_their_uid_after_it():
    user = UserFactory(timezone="Europe/Berlin")
    habit = HabitFactory(user=user, action="Read", place="", time_of_day=time(21, 0),
                         start_date=date(2026, 3, 11), periodicity_days=2)  # fmt: skip
    with time_machine.travel(MARCH, tick=False):
        url = _subscribe(user)
        first = _calendar(url)
        again = _calendar(url)
        assert not HabitInstance.objects.exists()
        planned = _events(first)
        # Every second day from start_date, from today (19 March, on the grid) to 30 days on.
        assert [e.start.date() for e in sorted(planned.values(), key=lambda e: e.start)] == [
            date(2026, 3, 19) + timedelta(days=2 * n) for n in range(16)
        ]
        assert set(planned) == set(_events(again))
        assert {str(e["summary"]) for e in planned.values()} == {"Read"}

        generation.generate(days=[local_day("Europe/Berlin", date(2026, 3, 19))], now=MARCH)
        instance = HabitInstance.objects.get(habit=habit)
        instance.status, instance.completed_at = Status.COMPLETED, MARCH
        instance.save()
        after = _events(_calendar(url))

    assert set(after) == set(planned)
    today_uid = f"habit-{habit.pk}-20260319@atomic-habits.calendar"
    assert str(after[today_uid]["summary"]) == "✓ Read"
    assert after[today_uid].start == instance.scheduled_at


def test_the_stored_instance_wins_for_its_date_with_its_own_times():
    user = UserFactory()
    habit = HabitFactory(user=user, action="Stretch", place="", time_of_day=time(8, 0),
                         start_date=MARCH.date())  # fmt: skip
    moved = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
    make_instance(habit, date(2026, 3, 20), moved)
    with time_machine.travel(MARCH, tick=False):
        url = _subscribe(user)
        events = _events(_calendar(url))
        raw = _fetch(url).content
    event = events[f"habit-{habit.pk}-20260320@atomic-habits.calendar"]
    assert b"DTSTART:20260320T093000Z" in raw  # a UTC account: UTC times
    assert event.start == moved
    assert event.end == moved + timedelta(minutes=habit.grace_minutes)


def test_the_window_is_fourteen_days_back_to_thirty_ahead_and_done_days_are_ticked():
    user = UserFactory()
    today = MARCH.date()
    habit = HabitFactory(user=user, action="Walk", place="", start_date=today - timedelta(days=14),
                         repeat_limit=45, time_of_day=time(6, 0))  # fmt: skip
    older = HabitFactory(user=user, action="Old", start_date=today - timedelta(days=20),
                         time_of_day=time(6, 0), is_active=False)  # fmt: skip
    for back in range(1, 15):
        on = today - timedelta(days=back)
        make_instance(habit, on, datetime.combine(on, time(6), UTC),
                      status=Status.COMPLETED if back % 2 else Status.FIX_EXPIRED)  # fmt: skip
    for back in (14, 15):
        on = today - timedelta(days=back)
        make_instance(older, on, datetime.combine(on, time(5), UTC), status=Status.COMPLETED)
    with time_machine.travel(MARCH, tick=False):
        calendar = _calendar(_subscribe(user))

    starts = _starts(calendar)
    # 14 past days stored (day -15 is outside); today's 06:00 has its fix deadline behind it
    # at noon and no instance: generation will never write it, so it is not planned either.
    assert starts[0] == datetime.combine(today - timedelta(days=14), time(5), UTC)
    assert starts[-1].date() == today + timedelta(days=30)
    assert len(starts) == 1 + 14 + 30
    summaries = {
        e.start.date(): str(e["summary"]) for e in calendar.walk("VEVENT") if "Walk" in e["summary"]
    }
    assert summaries[today - timedelta(days=1)] == "✓ Walk"
    assert summaries[today - timedelta(days=2)] == "Walk"
    assert summaries[today + timedelta(days=1)] == "Walk"
    assert today not in summaries


def test_skipped_and_paused_days_are_left_out_and_the_course_stretches_as_generation_does():
    """A daily habit of 21 with 17 days behind it (one skipped) and a pause ahead: the feed
    plans exactly the dates generation writes, day after day."""
    user = UserFactory()
    today = MARCH.date()
    habit = HabitFactory(user=user, start_date=today - timedelta(days=17), time_of_day=time(18))
    other = HabitFactory(user=user, start_date=today, time_of_day=time(19), periodicity_days=3)
    for back in range(1, 18):
        on = today - timedelta(days=back)
        make_instance(habit, on, datetime.combine(on, time(18), UTC),
                      status=Status.SKIPPED if back == 5 else Status.COMPLETED)  # fmt: skip
    Pause.objects.create(user=user, habit=habit, start_date=today + timedelta(days=2),
                         end_date=today + timedelta(days=3), reason=SkipReason.TRAVEL)  # fmt: skip
    Pause.objects.create(user=user, start_date=today + timedelta(days=6),
                         end_date=today + timedelta(days=6))  # fmt: skip
    with time_machine.travel(MARCH, tick=False):
        url = _subscribe(user)
        feed = _calendar(url)
        planned = {
            (int(str(e["uid"]).split("-")[1]), e.start.date())
            for e in feed.walk("VEVENT")
            if e.start.date() >= today
        }
    # 16 counted behind; today + 1 day, 2 paused, then 3 more make 21: the last is day 6.
    assert sorted(d for h, d in planned if h == habit.pk) == [
        today, today + timedelta(days=1), today + timedelta(days=4), today + timedelta(days=5),
        today + timedelta(days=7),
    ]  # fmt: skip
    skipped_day = today - timedelta(days=5)
    assert all(e.start.date() != skipped_day for e in feed.walk("VEVENT"))

    # What generation writes, one day at a time, as the days come.
    for n in range(31):
        on = today + timedelta(days=n)
        generation.generate(days=[local_day("UTC", on)], now=datetime.combine(on, time(0), UTC))
    generated = set(
        HabitInstance.objects.filter(user=user, date__gte=today)
        .exclude(status=Status.SKIPPED)
        .values_list("habit_id", "date")
    )
    assert planned == generated
    assert {h for h, _ in planned} == {habit.pk, other.pk}


def test_imported_history_does_not_shorten_the_course_the_feed_plans():
    """A daily habit of 21 begun 10 days ago: 10 done days imported from a file, one of
    them tomorrow's (a Loop file runs a day ahead). Imported days are not part of the course
    (generation counts none), so the feed plans the whole course from today, as generation
    writes it, not one ending ten days early."""
    user = UserFactory()
    today = MARCH.date()
    habit = HabitFactory(user=user, start_date=today - timedelta(days=10), time_of_day=time(18))
    for back in [*range(1, 10), -1]:
        on = today - timedelta(days=back)
        make_instance(habit, on, datetime.combine(on, time(18), UTC), status=Status.COMPLETED,
                      source=Source.IMPORT)  # fmt: skip
    with time_machine.travel(MARCH, tick=False):
        feed = _calendar(_subscribe(user))
    planned = sorted(e.start.date() for e in feed.walk("VEVENT") if e.start.date() >= today)
    tomorrow = today + timedelta(days=1)
    # 21 counted from today, tomorrow's date held by its imported row: today + 21 days.
    assert planned[-1] == today + timedelta(days=21)
    assert tomorrow in planned  # the imported row, shown as what happened

    for n in range(31):
        on = today + timedelta(days=n)
        generation.generate(days=[local_day("UTC", on)], now=datetime.combine(on, time(0), UTC))
    generated = HabitInstance.objects.filter(habit=habit, date__gte=today)
    assert sorted(generated.values_list("date", flat=True)) == planned


def test_an_inactive_habit_plans_nothing_but_keeps_its_history():
    user = UserFactory()
    habit = HabitFactory(user=user, start_date=date(2026, 3, 1), is_active=False)
    yesterday = MARCH.date() - timedelta(days=1)
    make_instance(habit, yesterday, datetime.combine(yesterday, time(8), UTC),
                  status=Status.COMPLETED)  # fmt: skip
    with time_machine.travel(MARCH, tick=False):
        starts = _starts(_calendar(_subscribe(user)))
    assert [s.date() for s in starts] == [yesterday]


def test_unknown_malformed_and_revoked_secrets_answer_404():
    user = UserFactory()
    HabitFactory(user=user)
    url = _subscribe(user)
    assert _fetch(url).status_code == 200
    assert Client().get("/cal/" + "A" * 43 + ".ics").status_code == 404
    assert Client().get("/cal/not a secret.ics").status_code == 404
    assert Client().get(urlsplit(url).path.removesuffix(".ics")).status_code == 404

    api = Api()
    api.login(user.email)
    assert api.delete("/api/calendar/").status_code == 204
    assert _fetch(url).status_code == 404
    assert not CalendarFeed.objects.filter(user=user).exists()
    assert api.delete("/api/calendar/").status_code == 204  # none left, still none


def test_a_new_url_stops_the_old_one_at_once():
    user = UserFactory()
    old = _subscribe(user)
    new = _subscribe(user)
    assert old != new
    assert _fetch(old).status_code == 404
    assert _fetch(new).status_code == 200
    assert CalendarFeed.objects.filter(user=user).count() == 1


def test_a_deactivated_owner_has_no_feed():
    user = UserFactory()
    url = _subscribe(user)
    user.is_active = False
    user.save()
    assert _fetch(url).status_code == 404


def test_each_feed_shows_only_its_owners_habits_and_revoking_is_ones_own():
    ann, bob = UserFactory(), UserFactory()
    mine = HabitFactory(user=ann, action="Ann's swim")
    theirs = HabitFactory(user=bob, action="Bob's run")
    ann_url, bob_url = _subscribe(ann), _subscribe(bob)

    ann_events = _events(_calendar(ann_url))
    assert ann_events
    assert {u.split("-")[1] for u in ann_events} == {str(mine.pk)}
    assert {str(e["summary"]).split(" @ ")[0] for e in ann_events.values()} == {"Ann's swim"}
    assert {u.split("-")[1] for u in _events(_calendar(bob_url))} == {str(theirs.pk)}

    bob_api = Api()
    bob_api.login(bob.email)
    assert bob_api.delete("/api/calendar/").status_code == 204
    assert _fetch(ann_url).status_code == 200
    assert _fetch(bob_url).status_code == 404


def test_the_endpoints_need_a_login():
    api = Api()
    assert api.post("/api/calendar/").status_code == 401
    assert api.delete("/api/calendar/").status_code == 401


def test_fifty_habits_cost_a_handful_of_queries(django_assert_max_num_queries):
    user = UserFactory(timezone="Europe/Berlin")
    today = MARCH.date()
    for n in range(50):
        habit = HabitFactory(user=user, start_date=today - timedelta(days=10),
                             periodicity_days=(1, 2, 3, 5, 7)[n % 5], repeat_limit=45)  # fmt: skip
        for back in range(1, 11):
            on = today - timedelta(days=back)
            make_instance(habit, on, datetime.combine(on, time(7), UTC), status=Status.COMPLETED)
    Pause.objects.create(user=user, start_date=today + timedelta(days=3),
                         end_date=today + timedelta(days=4))  # fmt: skip
    with time_machine.travel(MARCH, tick=False):
        url = _subscribe(user)
        with django_assert_max_num_queries(5):
            calendar = _calendar(url)
    assert len(calendar.walk("VEVENT")) > 50 * 10


def test_the_tests_run_on_the_database_asked_for():
    """tests/calendars/test_sqlite.py runs this module again on SQLite: it must be SQLite."""
    asked = os.environ["DATABASE_URL"].split(":", 1)[0]
    assert (
        connection.vendor
        == {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}[asked]
    )


def test_no_feed_secret_reaches_a_log_line(caplog):
    caplog.set_level(logging.DEBUG)
    user = UserFactory()
    revoked = _subscribe(user)
    live = _subscribe(user)
    secrets = [urlsplit(u).path.removeprefix("/cal/").removesuffix(".ics") for u in (revoked, live)]

    assert _fetch(revoked).status_code == 404
    assert _fetch(live).status_code == 200
    assert Client().post(urlsplit(live).path).status_code == 405
    assert Client().head(urlsplit(live).path).status_code == 200

    assert caplog.records, "nothing logged at all: the capture is not working"
    for record in caplog.records:
        for secret in secrets:
            assert secret not in record.getMessage(), f"{record.name} logged a feed secret"
