"""Quiet hours at claim time, and never miss twice (SPEC §8; RELIABILITY R1: quiet-hour
releases sent at most once, never for an instance done, skipped or expired by then)."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async

from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete, instance_skip
from telegram.admin import QuietHoursFilter
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.relay import Relay
from telegram.services import LEASE, instance_snooze, outbox_claim, outbox_sent
from telegram.services.messages import NOT_TWICE
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001
BERLIN = "Europe/Berlin"
# 22:00-07:00 in Berlin; in June that is 20:00-05:00 UTC.
NIGHT = {"quiet_start": time(22, 0), "quiet_end": time(7, 0)}
END = datetime(2026, 6, 16, 5, 0, tzinfo=UTC)


def utc(hour: int, minute: int = 0, day: int = 16) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def _bound(*, tz: str = BERLIN, telegram_id: int = ANN, **quiet: time):
    user = UserFactory(timezone=tz, **quiet)
    TelegramProfile.objects.create(user=user, telegram_id=telegram_id, access_hash=3)
    return user


def _instance(user, at: datetime, *, status: str = Status.PENDING, action: str = "stretch"):
    habit = HabitFactory(user=user, start_date=at.date(), action=action)
    return make_instance(habit, at.date(), at, status=status)


def _owe(instance: HabitInstance, *, kind: str = OutboxKind.REMINDER, at: datetime | None = None):
    profile = TelegramProfile.objects.get(user_id=instance.user_id)
    return OutboxMessage.objects.create(
        kind=kind, instance=instance, telegram_id=profile.telegram_id,
        access_hash=profile.access_hash, next_attempt_at=at or instance.scheduled_at,
    )  # fmt: skip


def _row(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def test_a_reminder_due_in_quiet_hours_waits_until_they_end_then_is_sent_once():
    instance = _instance(_bound(**NIGHT), utc(4, 30))  # 06:30 in Berlin; fix until 09:00
    reminder = _owe(instance)

    assert outbox_claim(now=utc(4, 30)) == []

    held = _row(reminder)
    assert (held.next_attempt_at, held.given_up_at, held.attempts) == (END, None, 0)
    assert held.last_error == "quiet hours: waits until 07:00"
    assert outbox_claim(now=utc(4, 59)) == []

    (delivery,) = outbox_claim(now=END)
    assert delivery.text == "⏰ Time for: stretch (home). Done by 07:00."
    assert delivery.with_button
    outbox_sent(message_id=delivery.id, telegram_message_id=77)
    assert outbox_claim(now=END + LEASE * 3) == []
    assert _row(reminder).last_error == ""


def test_a_missed_note_whose_fix_deadline_comes_before_the_end_is_given_up_saying_so():
    instance = _instance(_bound(**NIGHT), utc(0, 0), status=Status.MISSED)  # fix until 02:30 UTC
    note = _owe(instance, kind=OutboxKind.MISSED, at=utc(0, 30))

    assert outbox_claim(now=utc(0, 30)) == []

    given_up = _row(note)
    assert given_up.given_up_at == utc(0, 30)
    assert given_up.last_error == (
        "quiet hours until 07:00: the fix deadline passes before they end"
    )
    assert outbox_claim(now=END) == []


def test_outside_quiet_hours_and_for_other_messages_nothing_waits():
    user = _bound(**NIGHT)
    daytime = _owe(_instance(user, utc(10, 0)))  # noon in Berlin
    night = _instance(user, utc(2, 0), action="read")
    finished = OutboxMessage.objects.create(
        kind=OutboxKind.FINISHED, instance=night, telegram_id=ANN, access_hash=3,
        next_attempt_at=utc(2, 0), text="🏁 Course finished: 21 of 21 done — read.",
    )  # fmt: skip

    assert {d.id for d in outbox_claim(now=utc(2, 0))} == {finished.pk}
    outbox_sent(message_id=finished.pk, telegram_message_id=9)
    assert {d.id for d in outbox_claim(now=utc(10, 0))} == {daytime.pk}


def test_without_quiet_hours_a_night_reminder_goes_at_once():
    instance = _instance(_bound(), utc(2, 0))
    _owe(instance)

    assert len(outbox_claim(now=utc(2, 0))) == 1


def test_quiet_hours_are_the_owners_local_time_wrapping_midnight_in_new_york():
    # 23:00-06:00 in New York (UTC-4 in June): 09:00 UTC is 05:00 there, fix until 11:30 UTC.
    user = _bound(tz="America/New_York", quiet_start=time(23, 0), quiet_end=time(6, 0))
    reminder = _owe(_instance(user, utc(9, 0)))

    assert outbox_claim(now=utc(9, 0)) == []

    assert _row(reminder).next_attempt_at == utc(10, 0)


@pytest.mark.parametrize("outcome", ["done", "skipped", "expired"])
def test_a_held_reminder_is_never_sent_for_an_instance_done_skipped_or_expired_by_the_end(
    outcome,
):
    instance = _instance(_bound(**NIGHT), utc(4, 30))
    reminder = _owe(instance)
    assert outbox_claim(now=utc(4, 30)) == []

    if outcome == "done":
        instance_complete(
            instance_id=instance.pk, user_id=instance.user_id, at=utc(4, 40), source=Source.WEB
        )
    elif outcome == "skipped":
        instance_skip(instance_id=instance.pk, user_id=instance.user_id)
    else:  # whatever path: a row changed behind the services' back
        HabitInstance.objects.filter(pk=instance.pk).update(status=Status.FIX_EXPIRED)

    assert outbox_claim(now=END) == []
    row = _row(reminder)
    assert row.given_up_at is not None
    assert row.sent_at is None


def test_a_first_reminder_held_past_its_grace_gives_way_to_the_missed_note():
    instance = _instance(_bound(**NIGHT), utc(4, 0))  # grace until 04:30, fix until 06:30 UTC
    reminder = _owe(instance)
    assert outbox_claim(now=utc(4, 0)) == []
    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.MISSED)
    note = _owe(instance, kind=OutboxKind.MISSED, at=utc(4, 30))
    assert outbox_claim(now=utc(4, 30)) == []

    (delivery,) = outbox_claim(now=END)

    assert delivery.id == note.pk
    assert delivery.text == "You missed: stretch (home). Fix it until 08:30."
    assert _row(reminder).last_error.startswith("the instance is missed by now")


def test_two_claims_racing_at_the_end_of_quiet_hours_take_each_reminder_once():
    user = _bound(**NIGHT)
    owed = {_owe(_instance(user, utc(3, 0) + timedelta(minutes=i))).pk for i in range(20)}
    assert outbox_claim(now=utc(4, 0)) == []  # all held until 05:00 UTC

    results = run_together(*[lambda: outbox_claim(now=END)] * 3)

    assert raised(results) == []
    claimed = [d.id for result in results for d in result]
    assert sorted(claimed) == sorted(owed)


def test_a_release_claimed_by_a_bot_that_died_is_sent_after_the_lease_and_only_once():
    reminder = _owe(_instance(_bound(**NIGHT), utc(4, 30)))
    assert outbox_claim(now=utc(4, 30)) == []
    assert [d.id for d in outbox_claim(now=END)] == [reminder.pk]  # then the bot died

    assert outbox_claim(now=END + LEASE / 2) == []  # leased: no second copy meanwhile
    (retry,) = outbox_claim(now=END + LEASE)
    outbox_sent(message_id=retry.id, telegram_message_id=5)

    assert outbox_claim(now=END + LEASE * 10) == []


async def test_the_bot_sends_the_held_reminder_when_quiet_hours_end(bot, fake_telegram):
    def owed() -> None:
        _owe(_instance(_bound(**NIGHT), utc(4, 30)))

    await database_sync_to_async(owed)()

    with time_machine.travel(utc(4, 30, 5)):
        assert await Relay(bot).deliver_due() == 0
    with time_machine.travel(END + timedelta(seconds=1)):
        assert await Relay(bot).deliver_due() == 1
        assert await Relay(bot).deliver_due() == 0

    (sent,) = fake_telegram.sent()
    assert sent.message.startswith("⏰ Time for: stretch")


# --- never miss twice -------------------------------------------------------------------------


def _text_after(*history: str, kind: str = OutboxKind.REMINDER, status: str = Status.PENDING):
    """The text of today's reminder after these statuses on the days before (oldest first)."""
    user = _bound(tz="UTC")
    habit = HabitFactory(user=user, action="run", place="")
    today = utc(9, 0)
    for days_ago, earlier in enumerate(reversed(history), start=1):
        at = today - timedelta(days=days_ago)
        make_instance(habit, at.date(), at, status=earlier)
    instance = make_instance(habit, today.date(), today, status=status)
    _owe(instance, kind=kind, at=today)
    (delivery,) = outbox_claim(now=today)
    return delivery.text


@pytest.mark.parametrize(
    ("history", "warned"),
    [
        ((), False),
        ((Status.FIX_EXPIRED,), True),
        ((Status.MISSED,), True),
        ((Status.COMPLETED,), False),
        ((Status.COMPLETED_LATE,), False),
        ((Status.FIX_EXPIRED, Status.COMPLETED), False),  # the newest counts
        ((Status.FIX_EXPIRED, Status.SKIPPED), True),  # a skip is passed over
    ],
)
def test_a_reminder_after_a_miss_says_this_is_the_one_not_to_miss_twice(history, warned):
    text = _text_after(*history)

    assert text.startswith("⏰ Time for: run. Done by 09:30.")
    assert text.endswith(NOT_TWICE) is warned


def test_a_snooze_in_the_fix_window_after_a_miss_says_so_too():
    text = _text_after(Status.FIX_EXPIRED, kind=OutboxKind.SNOOZE, status=Status.MISSED)

    assert text == f"⏰ Still time for: run. Fix it until 11:30. {NOT_TWICE}"


def test_a_snooze_due_in_quiet_hours_waits_too_and_the_admin_filters_it():
    instance = _instance(_bound(**NIGHT), utc(4, 0))  # fix until 06:30 UTC
    snoozed = instance_snooze(
        instance_id=instance.pk, user_id=instance.user_id, minutes=5, now=utc(3, 50)
    )

    assert outbox_claim(now=snoozed.remind_at) == []

    (row,) = OutboxMessage.objects.filter(kind=OutboxKind.SNOOZE)
    assert (row.next_attempt_at, row.last_error) == (END, "quiet hours: waits until 07:00")
    waiting = OutboxMessage.objects.filter(pk=row.pk)
    admin_filter = QuietHoursFilter(None, {"quiet": ["waiting"]}, OutboxMessage, None)
    assert list(admin_filter.queryset(None, OutboxMessage.objects.all())) == list(waiting)
    given_up = QuietHoursFilter(None, {"quiet": ["given_up"]}, OutboxMessage, None)
    assert list(given_up.queryset(None, OutboxMessage.objects.all())) == []
