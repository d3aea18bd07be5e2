"""Quiet hours on the user (SPEC §8): GET/PATCH /api/auth/me/, and when they end (DST)."""

from datetime import UTC, datetime, time

import pytest
from django.db import IntegrityError, transaction

from accounts.quiet_hours import quiet_hours_end

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"


def test_none_by_default_then_set_wrapping_midnight_then_cleared_with_null(authed, user):
    assert authed.get(ME).json()["quiet_hours"] is None

    response = authed.patch(ME, {"quiet_hours": {"start": "22:30", "end": "07:00"}})

    assert response.status_code == 200
    assert response.json()["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    assert authed.get(ME).json()["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    user.refresh_from_db()
    assert user.quiet_hours == (time(22, 30), time(7, 0))

    left_out = authed.patch(ME, {"timezone": "Europe/Berlin"})
    assert left_out.json()["quiet_hours"] == {"start": "22:30", "end": "07:00"}

    cleared = authed.patch(ME, {"quiet_hours": None})
    assert cleared.status_code == 200
    assert cleared.json()["quiet_hours"] is None
    user.refresh_from_db()
    assert (user.quiet_start, user.quiet_end) == (None, None)


@pytest.mark.parametrize(
    ("quiet", "loc"),
    [
        ({"start": "24:00", "end": "07:00"}, ["body", "quiet_hours", "start"]),
        ({"start": "22:00", "end": "7:00"}, ["body", "quiet_hours", "end"]),
        ({"start": "22:00", "end": "07:00:00"}, ["body", "quiet_hours", "end"]),
        ({"start": "22:00\n", "end": "07:00"}, ["body", "quiet_hours", "start"]),
        ({"start": "22:00", "end": 7}, ["body", "quiet_hours", "end"]),
        ({"start": "22:00"}, ["body", "quiet_hours", "end"]),
        ({"start": "22:00", "end": "07:00", "mood": "calm"}, ["body", "quiet_hours", "mood"]),
        ({"start": "08:00", "end": "08:00"}, ["body", "quiet_hours"]),
        ("22:00-07:00", ["body", "quiet_hours"]),
    ],
)
def test_malformed_quiet_hours_are_422_naming_the_field_and_nothing_is_written(
    authed, user, quiet, loc
):
    response = authed.patch(ME, {"timezone": "Asia/Tokyo", "quiet_hours": quiet})

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]
    user.refresh_from_db()
    assert (user.timezone, user.quiet_hours) == ("UTC", None)  # the valid timezone neither


def test_the_database_refuses_half_quiet_hours(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(quiet_start=time(22, 0))


BERLIN = "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "at", "ends"),
    [
        # 22:00-07:00 in summer (UTC+2): at 23:30 local, they end at 07:00 the next morning.
        (time(22), time(7), utc(2026, 6, 15, 21, 30), utc(2026, 6, 16, 5, 0)),
        (time(22), time(7), utc(2026, 6, 16, 2, 0), utc(2026, 6, 16, 5, 0)),
        (time(22), time(7), utc(2026, 6, 16, 5, 0), None),  # the end itself is outside
        (time(22), time(7), utc(2026, 6, 16, 10, 0), None),
        (time(13), time(15), utc(2026, 6, 16, 12, 0), utc(2026, 6, 16, 13, 0)),
        (time(13), time(15), utc(2026, 6, 16, 9, 0), None),
        # The night the clocks go forward (29 March, 02:00 CET -> 03:00 CEST): 07:00 is UTC+2.
        (time(22), time(7), utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 5, 0)),
        # An end the clock skips (02:30 that night): they end when the clock jumps past it.
        (time(1), time(2, 30), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0)),
        # The night they go back (25 October, 03:00 CEST -> 02:00 CET): 07:00 is UTC+1.
        (time(22), time(7), utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 6, 0)),
        # An end read twice: the first 02:30 (CEST) ends them...
        (time(1), time(2, 30), utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30)),
        # ...and the hour read again is quiet again, until the second 02:30 (CET).
        (time(1), time(2, 30), utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 1, 30)),
    ],
)
def test_quiet_hours_end_in_the_owners_zone_dst_correct(start, end, at, ends):
    assert quiet_hours_end(start=start, end=end, timezone_name=BERLIN, at=at) == ends
