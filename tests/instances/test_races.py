"""Races on PostgreSQL with real threads (RELIABILITY D1, D2)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete, instances_sweep
from tests.concurrency import run_together
from tests.factories import HabitFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)

AT = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
GRACE = AT + timedelta(minutes=30)


def test_web_and_bot_completing_at_once_make_one_change_and_one_event(user, events_of):
    instance = make_instance(
        HabitFactory(user=user, start_date=date(2026, 6, 15)), date(2026, 6, 15), AT
    )
    probe = events_of(user)

    results = run_together(
        lambda: instance_complete(
            instance_id=instance.pk,
            user_id=instance.user_id,
            at=AT + timedelta(minutes=1),
            source=Source.WEB,
        ),
        lambda: instance_complete(
            instance_id=instance.pk,
            user_id=instance.user_id,
            at=AT + timedelta(minutes=1),
            source=Source.TELEGRAM,
        ),
    )

    assert all(isinstance(r, HabitInstance) for r in results)
    instance.refresh_from_db()
    assert instance.status == Status.COMPLETED
    assert instance.source in {Source.WEB, Source.TELEGRAM}
    assert {r.source for r in results} == {instance.source}
    assert len(probe.of_type("instance.updated", wait=0.5)) == 1


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(microseconds=1), timedelta(seconds=1)])
def test_completion_racing_the_sweep_at_the_grace_deadline_ends_by_the_clock(user, offset):
    instance = make_instance(
        HabitFactory(user=user, start_date=date(2026, 6, 15)), date(2026, 6, 15), AT
    )
    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.PENDING)
    done_at = GRACE + offset

    run_together(
        lambda: instance_complete(
            instance_id=instance.pk, user_id=instance.user_id, at=done_at, source=Source.WEB
        ),
        lambda: instances_sweep(now=GRACE + timedelta(microseconds=1)),
    )
    instance.refresh_from_db()
    final = instance.status

    expected = Status.COMPLETED if done_at <= GRACE else Status.COMPLETED_LATE
    assert final == expected
    instances_sweep(now=GRACE + timedelta(minutes=1))  # a later sweep never flips it back
    instance.refresh_from_db()
    assert instance.status == final
