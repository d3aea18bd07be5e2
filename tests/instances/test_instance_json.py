"""`instance_json` (the answer and the frame of a single change) is InstanceOut's own JSON,
byte for byte, whatever the instance holds."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.schemas import rendered
from habits.models import REPEAT_LIMIT_CHOICES, Habit
from instances.models import DONE_STATUSES, HabitInstance, SkipReason, Source, Status
from instances.schemas import InstanceOut, instance_answer, instance_json
from instances.selectors import instance_locked_for_change
from instances.services import instance_complete, instance_skip, instance_unskip
from telegram.models import TelegramProfile
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


def _committed(instance_id: int) -> bytes:
    return rendered(InstanceOut, HabitInstance.objects.select_related("habit").get(pk=instance_id))


# The status each change leaves (an un-skipped occurrence 5 minutes under way is pending).
AFTER = {"complete": Status.COMPLETED, "skip": Status.SKIPPED, "unskip": Status.PENDING}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["complete", "skip", "unskip"])
def test_a_changes_answer_is_the_row_it_committed_once_done_and_again(utc_user, change):
    """A change answers with the bytes its event recorded, the row as committed after every
    reaction in its transaction (its owner bound to Telegram and reminded, its habit on a
    course); a repeat, which records nothing, renders the committed row."""
    now = datetime.now(UTC)
    TelegramProfile.objects.create(user=utc_user, telegram_id=4242, access_hash=1)
    made = instance_of(utc_user, now.date(), now - timedelta(minutes=5), reminded_at=now)
    Habit.objects.filter(pk=made.habit_id).update(repeat_limit=min(REPEAT_LIMIT_CHOICES))
    who = {"instance_id": made.pk, "user_id": utc_user.pk}
    press = {
        "complete": lambda: instance_complete(**who, at=now, source=Source.WEB),
        "skip": lambda: instance_skip(**who, reason=SkipReason.SICK, note=None),
        "unskip": lambda: instance_unskip(**who, now=now),
    }[change]
    if change == "unskip":
        instance_skip(**who, reason=SkipReason.SICK, note=None)

    changed = press()
    assert changed.recorded_json is not None
    assert json.loads(_committed(made.pk))["status"] == AFTER[change]
    assert instance_answer(changed) == _committed(made.pk)
    if change != "unskip":  # a second un-skip is refused, the others answer again
        again = press()
        assert getattr(again, "recorded_json", None) is None
        assert instance_answer(again) == _committed(made.pk)
