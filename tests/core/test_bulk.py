"""core/bulk.py: one column of many rows in one statement, the same rows whichever way it
goes (the `unnest` statement on PostgreSQL, the ORM's `bulk_update` elsewhere)."""

from datetime import UTC as utc
from datetime import date, datetime, timedelta

import pytest
from django.db import connection

from core.bulk import column_set
from instances.models import HabitInstance
from tests.factories import HabitFactory, make_instance

AT = datetime(2026, 6, 15, 8, 0, tzinfo=utc)


@pytest.fixture(params=["postgresql", "orm"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs both ways: "orm" is the path SQLite takes."""
    if request.param == "orm":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    return request.param


@pytest.fixture
def instances(user) -> list[HabitInstance]:
    habit = HabitFactory(user=user)
    return [make_instance(habit, date(2026, 6, 15) + timedelta(days=n), AT) for n in range(3)]


@pytest.mark.django_db
def test_column_set_writes_each_row_its_own_value_and_no_other(way, instances):
    first, second, untouched = instances
    column_set(
        HabitInstance,
        "next_reminder_at",
        {first.pk: AT + timedelta(minutes=10), second.pk: None},
    )

    moments = dict(HabitInstance.objects.values_list("pk", "next_reminder_at"))
    assert moments[first.pk] == AT + timedelta(minutes=10)
    assert moments[second.pk] is None
    assert moments[untouched.pk] == untouched.next_reminder_at
