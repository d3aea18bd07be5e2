"""Pure time rules: occurrence dates and local-time resolution (SPEC §2, RELIABILITY D3/D4)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from instances.localdays import current_and_next_day, local_day, occurrence_index, resolve_local

START = date(2026, 1, 1)


@pytest.mark.parametrize("periodicity", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("limit", [21, 30, 45])
def test_occurrences_fall_every_periodicity_days_up_to_the_limit(periodicity, limit):
    horizon = [START + timedelta(days=n) for n in range(-3, periodicity * limit + 10)]

    hits = [
        d
        for d in horizon
        if occurrence_index(
            start_date=START, periodicity_days=periodicity, repeat_limit=limit, on=d
        )
        is not None
    ]

    assert hits == [START + timedelta(days=periodicity * k) for k in range(limit)]
    assert (
        occurrence_index(
            start_date=START, periodicity_days=periodicity, repeat_limit=limit, on=hits[-1]
        )
        == limit - 1
    )


def test_a_dst_gap_time_takes_the_offset_from_before_the_gap():
    day = local_day("Europe/Berlin", date(2025, 3, 30))

    assert day.resolve(time(2, 30)) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert day.resolve(time(1, 59)) == datetime(2025, 3, 30, 0, 59, tzinfo=UTC)
    assert day.resolve(time(3, 0)) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def test_an_ambiguous_time_takes_its_first_occurrence():
    day = local_day("Europe/Berlin", date(2025, 10, 26))

    assert day.resolve(time(2, 30)) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert day.resolve(time(3, 0)) == datetime(2025, 10, 26, 2, 0, tzinfo=UTC)


TRICKY_ZONES = [
    "Europe/Berlin", "America/Havana", "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham",
    "America/New_York", "Asia/Beirut", "America/St_Johns", "Africa/Cairo", "America/Asuncion",
    "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "UTC",
]  # fmt: skip


@pytest.mark.parametrize("zone", TRICKY_ZONES)
def test_the_day_table_agrees_with_python_fold_0_on_every_day_of_two_years(zone):
    tz = ZoneInfo(zone)
    for n in range(730):
        on = date(2025, 1, 1) + timedelta(days=n)
        day = local_day(zone, on)
        for minute in range(0, 24 * 60, 15):
            at = time(minute // 60, minute % 60)
            assert day.resolve(at) == resolve_local(on, at, tz), (zone, on, at)


def test_current_and_next_day_at_both_ends_of_the_date_line():
    now = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)

    assert current_and_next_day("Pacific/Kiritimati", now) == (date(2026, 6, 16), date(2026, 6, 17))
    assert current_and_next_day("Pacific/Pago_Pago", now) == (date(2026, 6, 15), date(2026, 6, 16))
    assert current_and_next_day("Etc/GMT+12", now) == (date(2026, 6, 14), date(2026, 6, 15))
