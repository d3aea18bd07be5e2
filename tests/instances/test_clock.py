"""The one clock rule (instances/clock.py): its Python, SQL and ORM forms agree on every edge."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from instances.clock import (
    completion_status,
    status_by_clock,
    status_by_clock_expression,
    status_by_clock_sql,
)
from instances.models import HabitInstance, Status
from tests.factories import HabitFactory, make_instance

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
GRACE = AT + timedelta(minutes=30)
FIX = GRACE + timedelta(minutes=120)
TICK = timedelta(microseconds=1)

# now -> (status an open instance has then, what completing it then makes of it)
TABLE = [
    (AT - TICK, Status.SCHEDULED, Status.COMPLETED),
    (AT, Status.PENDING, Status.COMPLETED),
    (GRACE, Status.PENDING, Status.COMPLETED),
    (GRACE + TICK, Status.MISSED, Status.COMPLETED_LATE),
    (FIX, Status.MISSED, Status.COMPLETED_LATE),
    (FIX + TICK, Status.FIX_EXPIRED, None),
]
IDS = ["before", "at", "grace", "past grace", "fix", "past fix"]


@pytest.mark.parametrize(("now", "status", "done"), TABLE, ids=IDS)
def test_the_python_rule(now, status, done):
    assert status_by_clock(AT, GRACE, FIX, now) == status
    assert completion_status(GRACE, FIX, now) == done


@pytest.mark.parametrize(("now", "status", "_"), TABLE, ids=IDS)
def test_the_sql_rule(now, status, _):
    sql = status_by_clock_sql(now="%(now)s", at="%(at)s", grace="%(grace)s", fix="%(fix)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql}",
            {"now": now, "at": AT, "grace": GRACE, "fix": FIX},
        )
        assert cursor.fetchone()[0] == status


@pytest.mark.parametrize(("now", "status", "_"), TABLE, ids=IDS)
def test_the_orm_rule(now, status, _):
    habit = HabitFactory(grace_minutes=30, fix_minutes=120)
    instance = make_instance(habit, AT.date(), AT)
    assert (instance.grace_deadline, instance.fix_deadline) == (GRACE, FIX)

    HabitInstance.objects.filter(pk=instance.pk).update(status=status_by_clock_expression(now))

    instance.refresh_from_db()
    assert instance.status == status
