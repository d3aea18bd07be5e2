"""`instance_json` (the answer and the frame of a single change) is InstanceOut's own JSON,
byte for byte, whatever the instance holds."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.schemas import rendered
from instances.models import DONE_STATUSES, HabitInstance, SkipReason, Source, Status
from instances.schemas import InstanceOut, instance_answer, instance_json
from instances.selectors import instance_locked_for_change
from instances.services import instance_complete
from tests.instances.conftest import instance_of

AT = datetime(2026, 3, 5, 8, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"note": "slept badly, still went"},
        {"completed_at": AT + timedelta(minutes=3), "source": Source.TELEGRAM},
        {"completed_at": AT.replace(microsecond=0), "source": Source.WEB, "note": 'ü ✓ "q"'},
    ],
)
def test_instance_json_is_the_schemas_json(utc_user, status, fields):
    if status not in DONE_STATUSES:  # a time and a source of completion come with "done"
        fields = {k: v for k, v in fields.items() if k == "note"}
    if status == Status.SKIPPED:
        fields["skip_reason"] = SkipReason.SICK
    made = instance_of(utc_user, AT.date(), AT, status, **fields)

    # As the completion and the skip read it (SQL text), and as the ORM reads it.
    locked = instance_locked_for_change(instance_id=made.pk, user_id=utc_user.pk)
    loaded = HabitInstance.objects.select_related("habit").get(pk=made.pk)

    assert instance_json(locked) == rendered(InstanceOut, loaded)
    assert instance_json(loaded) == rendered(InstanceOut, loaded)


@pytest.mark.django_db(transaction=True)
def test_a_changes_answer_is_the_row_it_committed_once_done_and_again(utc_user):
    """The completion answers with the bytes its event recorded; a second press, which
    records nothing, renders the same row again: both are the committed row."""
    now = datetime.now(UTC)
    made = instance_of(utc_user, now.date(), now - timedelta(minutes=5))
    press = {"instance_id": made.pk, "user_id": utc_user.pk, "at": now}
    done = instance_complete(**press, source=Source.WEB)
    again = instance_complete(**press, source=Source.TELEGRAM)

    committed = rendered(InstanceOut, HabitInstance.objects.select_related("habit").get(pk=made.pk))
    assert json.loads(committed)["status"] == Status.COMPLETED
    assert instance_answer(done) == committed
    assert instance_answer(again) == committed
