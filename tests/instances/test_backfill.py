from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from instances.models import HabitInstance
from tests.factories import HabitFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_backfill_fills_a_date_range_for_one_user_only():
    ann, bob = UserFactory(email="ann@example.com"), UserFactory()
    mine = HabitFactory(user=ann, start_date=date(2026, 3, 1), periodicity_days=2)
    theirs = HabitFactory(user=bob, start_date=date(2026, 3, 1))
    out = StringIO()

    call_command(
        "generate_instances",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-10",
        "--user",
        "Ann@Example.com",
        stdout=out,
        stderr=StringIO(),
    )

    dates = sorted(HabitInstance.objects.filter(habit=mine).values_list("date", flat=True))
    assert dates == [date(2026, 3, d) for d in (1, 3, 5, 7, 9)]
    assert not HabitInstance.objects.filter(habit=theirs).exists()
    assert "created 5 instance(s) over 10 day(s)" in out.getvalue()


def test_backfill_twice_creates_nothing_more():
    HabitFactory(start_date=date(2026, 3, 1))
    args = ["generate_instances", "--from", "2026-03-01", "--to", "2026-03-03"]
    call_command(*args, stdout=StringIO(), stderr=StringIO())
    out = StringIO()

    call_command(*args, stdout=out, stderr=StringIO())

    assert "created 0 instance(s)" in out.getvalue()
    assert HabitInstance.objects.count() == 3


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2026-03-05", "--to", "2026-03-01"],
        ["--from", "yesterday", "--to", "2026-03-01"],
        ["--from", "2026-03-01", "--to", "2026-03-02", "--user", "nobody@example.com"],
    ],
)
def test_backfill_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("generate_instances", *args, stdout=StringIO(), stderr=StringIO())
