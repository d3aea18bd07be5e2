"""core/bulk.py: many rows in one statement, the same rows whichever way it goes (the
`unnest` statement on PostgreSQL, the ORM's `bulk_update` / `bulk_create` elsewhere)."""

from datetime import UTC as utc
from datetime import date, datetime, timedelta

import pytest
from django.db import connection

from core.bulk import column_set, rows_insert
from instances.models import HabitInstance
from telegram.models import OutboxKind, OutboxMessage
from tests.factories import HabitFactory, make_instance

AT = datetime(2026, 6, 15, 8, 0, tzinfo=utc)
FIELDS = ("kind", "instance_id", "telegram_id", "access_hash", "next_attempt_at", "offset_minutes")


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


@pytest.mark.django_db
def test_rows_insert_fills_the_other_fields_with_their_defaults(way, instances):
    rows = [(OutboxKind.REMINDER, i.pk, 77, 5, AT, -30) for i in instances[:2]]

    inserted = rows_insert(OutboxMessage, FIELDS, rows)

    assert inserted == 2
    made = list(OutboxMessage.objects.order_by("instance_id"))
    assert [(m.instance_id, m.offset_minutes, m.telegram_id) for m in made] == [
        (instances[0].pk, -30, 77),
        (instances[1].pk, -30, 77),
    ]
    assert all(m.text == "" and m.attempts == 0 and m.created_at is not None for m in made)


@pytest.mark.django_db
def test_rows_insert_skips_a_row_a_unique_constraint_refuses(way, instances):
    first = instances[0]
    rows_insert(OutboxMessage, FIELDS, [(OutboxKind.REMINDER, first.pk, 77, 0, AT, -30)])

    again = rows_insert(
        OutboxMessage,
        FIELDS,
        [
            (OutboxKind.REMINDER, first.pk, 77, 0, AT, -30),  # this offset is owed already
            (OutboxKind.REMINDER, first.pk, 77, 0, AT, 30),
        ],
    )

    offsets = sorted(OutboxMessage.objects.values_list("offset_minutes", flat=True))
    assert offsets == [-30, 30]
    # PostgreSQL says how many went in; the ORM's way only what was offered.
    assert again == (1 if way == "postgresql" else 2)
