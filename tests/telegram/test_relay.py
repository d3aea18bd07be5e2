"""Reminders: decided once by the sweep, relayed to the bot over the channel layer, retried
after FloodWait, edited when the instance is done elsewhere (RELIABILITY B7, C6)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.utils import timezone

from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete, instances_sweep
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.relay import Relay
from telegram.services import notifications_decide
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001


def _due_instance(*, bound: bool = True, tz: str = "UTC", action: str = "stretch"):
    user = UserFactory(timezone=tz)
    if bound:
        TelegramProfile.objects.create(user=user, telegram_id=ANN, access_hash=99, username="ann")
    now = timezone.now()
    habit = HabitFactory(user=user, start_date=now.date(), action=action)
    return user, make_instance(habit, now.date(), now - timedelta(seconds=5))


def _sweep_and_decide() -> int:
    instances_sweep()
    return notifications_decide()


async def _run_relay_until(relay: Relay, condition, timeout: float = 5.0) -> None:
    task = asyncio.create_task(relay.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "the relay did not deliver in time"
            await asyncio.sleep(0.05)
    finally:
        task.cancel()


async def test_pending_to_reminder_to_done_press_to_socket_event_end_to_end(
    bot, chat_as, fake_telegram, events_of
):
    user, instance = await database_sync_to_async(_due_instance)()
    probe = await asyncio.to_thread(events_of, user)

    assert await database_sync_to_async(_sweep_and_decide)() == 1  # pending, one reminder owed
    await _run_relay_until(Relay(bot), lambda: fake_telegram.sent())  # woken by the poke

    (reminder,) = fake_telegram.sent()
    assert reminder.message.startswith("⏰ Time for: stretch")
    (label, data), (skip_label, _), *snooze = fake_telegram.buttons(reminder)
    assert [label for label, _ in snooze] == ["+15 min", "+1 h"]
    assert label.startswith("Done")
    assert skip_label.startswith("Skip")

    await chat_as(ANN).press(data)

    assert (
        await database_sync_to_async(HabitInstance.objects.get)(pk=instance.pk)
    ).status == Status.COMPLETED
    events = await asyncio.to_thread(probe.drain)
    assert [e["data"]["status"] for e in events if e["type"] == "instance.updated"] == [
        "pending",
        "completed",
    ]

    await Relay(bot).deliver_due()  # the reminder now says it is done
    (edit,) = fake_telegram.edits()
    assert edit.id == fake_telegram.next_message_id
    assert "done" in edit.message


async def test_floodwait_keeps_the_change_and_sends_the_reminder_later(bot, fake_telegram):
    _, instance = await database_sync_to_async(_due_instance)()
    await database_sync_to_async(_sweep_and_decide)()
    fake_telegram.flood_waits = [120]

    assert await Relay(bot).deliver_due() == 0

    row = await database_sync_to_async(OutboxMessage.objects.get)(instance=instance)
    assert row.sent_at is None
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=100)
    assert "FloodWait" in row.last_error
    assert (
        await database_sync_to_async(HabitInstance.objects.get)(pk=instance.pk)
    ).status == Status.PENDING
    assert await Relay(bot).deliver_due() == 0  # not before its time

    with time_machine.travel(timezone.now() + timedelta(seconds=125)):
        assert await Relay(bot).deliver_due() == 1
    assert len(fake_telegram.sent()) == 1


async def test_a_network_error_is_retried_later_not_lost(bot, fake_telegram):
    await database_sync_to_async(_due_instance)()
    await database_sync_to_async(_sweep_and_decide)()
    real_send = fake_telegram.send

    def broken(request, ordered=False):
        raise ConnectionError("network is down")

    bot._sender.send = broken
    assert await Relay(bot).deliver_due() == 0
    bot._sender.send = real_send

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert await Relay(bot).deliver_due() == 1


def test_overlapping_sweeps_owe_one_reminder_each():
    for _ in range(30):
        user = UserFactory()
        TelegramProfile.objects.create(user=user, telegram_id=10_000 + user.pk, access_hash=1)
        now = timezone.now()
        make_instance(
            HabitFactory(user=user, start_date=now.date()), now.date(), now - timedelta(seconds=1)
        )
    results = run_together(*[_sweep_and_decide] * 3)

    assert raised(results) == []
    assert OutboxMessage.objects.filter(kind=OutboxKind.REMINDER).count() == 30
    assert OutboxMessage.objects.values("instance").distinct().count() == 30


def test_a_second_decision_owes_nothing_more():
    _due_instance()

    assert _sweep_and_decide() == 1
    assert _sweep_and_decide() == 0


def test_users_without_telegram_get_the_decision_recorded_and_no_message():
    _, instance = _due_instance(bound=False)

    assert _sweep_and_decide() == 0

    instance.refresh_from_db()
    assert instance.reminded_at is not None
    assert not OutboxMessage.objects.exists()


async def test_missed_says_fix_it_until_the_local_time(bot, fake_telegram):
    def missed():
        _, instance = _due_instance(tz="Asia/Tokyo")
        at = datetime(2026, 6, 15, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
        HabitInstance.objects.filter(pk=instance.pk).update(
            scheduled_at=at, grace_deadline=at + timedelta(minutes=30),
            fix_deadline=at + timedelta(minutes=150), status=Status.MISSED, reminded_at=at,
        )  # fmt: skip
        return notifications_decide()

    assert await database_sync_to_async(missed)() == 1
    await Relay(bot).deliver_due()

    (message,) = fake_telegram.sent()
    assert message.message.endswith("Fix it until 11:30.")
    assert [label for label, _ in fake_telegram.buttons(message)] == ["Done ✅", "Skip ⏭"]


async def test_a_reminder_not_yet_sent_when_done_elsewhere_is_dropped(bot, fake_telegram):
    def done_on_the_web():
        _, instance = _due_instance()
        _sweep_and_decide()
        instance_complete(
            instance_id=instance.pk, user_id=instance.user_id, at=timezone.now(), source=Source.WEB
        )

    await database_sync_to_async(done_on_the_web)()

    assert await Relay(bot).deliver_due() == 0
    assert fake_telegram.requests == []


def test_a_paused_habit_gets_no_reminder():
    _, instance = _due_instance()
    type(instance.habit).objects.filter(pk=instance.habit_id).update(is_active=False)

    assert _sweep_and_decide() == 0

    instance.refresh_from_db()
    assert instance.status == Status.PENDING
    assert instance.reminded_at is not None
