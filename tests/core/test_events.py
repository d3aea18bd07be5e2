"""`record`: within reactions at once, after-commit reactions once per transaction, in
order, never on rollback; and a completion records exactly one event."""

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from core.events import Event, record, record_now
from instances.models import Source
from instances.services import instance_complete
from tests.factories import HabitFactory, make_instance


class Spy:
    """Stands in for config.dispatch.dispatcher; remembers what it was handed, and when."""

    def __init__(self) -> None:
        self.within: list[str] = []
        self.batches: list[list[str]] = []

    def reset(self) -> None:
        self.within.clear()
        self.batches.clear()

    def within_event(self, event: Event) -> None:
        self.within.append(event.type)

    def after(self, events: Sequence[Event]) -> None:
        self.batches.append([e.type for e in events])


class _Door:
    def within(self, event: Event) -> None:
        spy.within_event(event)

    def after_commit(self, events: Sequence[Event]) -> None:
        spy.after(events)


spy = Spy()
door = _Door()


class Rollback(Exception):
    pass


def _rolled_back(change: Callable[[], object]) -> None:
    """Run `change` in a transaction (or savepoint) that then rolls back."""
    with transaction.atomic():
        change()
        raise Rollback


@pytest.fixture
def spied(settings: object) -> Iterator[Spy]:
    settings.EVENT_DISPATCHER = "tests.core.test_events.door"
    spy.reset()
    yield spy
    spy.reset()


@pytest.mark.django_db(transaction=True)
def test_events_of_one_transaction_leave_together_after_the_commit(spied: Spy) -> None:
    with transaction.atomic():
        record("thing.made", thing_id=1)
        record("thing.changed", thing_id=1)
        assert spied.within == ["thing.made", "thing.changed"]  # at once, in the transaction
        assert spied.batches == []

    assert spied.batches == [["thing.made", "thing.changed"]]


@pytest.mark.django_db(transaction=True)
def test_nothing_leaves_on_rollback(spied: Spy) -> None:
    with pytest.raises(Rollback):
        _rolled_back(lambda: record("thing.made", thing_id=1))

    assert spied.batches == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_only_its_own_events(spied: Spy) -> None:
    with transaction.atomic():
        record("thing.made", thing_id=1)
        with pytest.raises(Rollback):
            _rolled_back(lambda: record("thing.lost", thing_id=2))
        record("thing.changed", thing_id=1)

    assert [t for batch in spied.batches for t in batch] == ["thing.made", "thing.changed"]


@pytest.mark.django_db(transaction=True)
def test_record_now_leaves_at_once_from_inside_a_transaction_even_one_rolled_back(
    spied: Spy,
) -> None:
    """An import's progress: no change of the database, told while its transaction runs."""
    seen_before_the_end = []

    def change() -> None:
        record("thing.made", thing_id=1)
        record_now("thing.progress", done=1, total=2)
        seen_before_the_end.extend(spied.batches)

    with pytest.raises(Rollback):
        _rolled_back(change)

    assert seen_before_the_end == [["thing.progress"]]  # now, inside the transaction

    assert spied.within == ["thing.made"]  # record_now runs no reaction within
    assert spied.batches == [["thing.progress"]]  # and the rolled-back change never left


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_event_leaves_at_once(spied: Spy) -> None:
    record("thing.made", thing_id=1)

    assert spied.within == ["thing.made"]
    assert spied.batches == [["thing.made"]]


@pytest.mark.django_db
def test_one_transaction_registers_one_commit_callback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(50):
            record("user.changed", user_id=n)

    assert len(callbacks) == 1


DAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_completion_records_exactly_one_event(user, django_capture_on_commit_callbacks):
    instance = make_instance(HabitFactory(user=user, start_date=DAY), DAY, AT)

    with django_capture_on_commit_callbacks() as callbacks:
        instance_complete(instance_id=instance.pk, user_id=user.pk, at=LATER, source=Source.WEB)

    [batch] = callbacks
    [event] = batch.events
    assert event.type == "instance.completed"
    assert (event.facts["ids"], event.facts["user_ids"]) == ([instance.pk], {user.pk})
    # What the reactions would otherwise read back: the owner, the frame's data as the change
    # left the row, and the habit locked for the course check.
    assert event.facts["owners"] == {instance.habit_id: user.pk}
    [data] = event.facts["data"][user.pk]
    assert (data["id"], data["status"]) == (instance.pk, "completed")
    assert event.facts["settling"] == [instance.habit_id]


@pytest.mark.django_db(transaction=True)
def test_a_completion_rolled_back_sends_nothing(user, events_of):
    instance = make_instance(HabitFactory(user=user, start_date=DAY), DAY, AT)
    probe = events_of(user)

    with pytest.raises(Rollback):
        _rolled_back(
            lambda: instance_complete(
                instance_id=instance.pk, user_id=user.pk, at=LATER, source=Source.WEB
            )
        )

    assert probe.drain(wait=0.3) == []
