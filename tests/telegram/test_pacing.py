"""Telegram's own limit (issue 23): the relay paces itself to ~30 sends a second in all and one
a second per chat, oldest due first, dropping nothing and sending nothing twice, against a
fake Telegram (tests/telegram/limited_telegram.py) that refuses with FloodWait past the limit.
Limits are scaled up here (100 a second, 0.2 s a chat) to keep the tests short, except where
the one-second chat rule itself is the point."""

import asyncio
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from instances.models import Status
from telegram.models import OutboxMessage, TelegramProfile
from telegram.pacing import Pacer
from telegram.relay import Relay
from telegram.services import notifications_decide
from tests.factories import HabitFactory, UserFactory, make_instance
from tests.telegram.limited_telegram import LimitedTelegram, limited_client

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"per_second": 100.0, "chat_interval": 0.2}
FIRST_CHAT = 50_000


@pytest.fixture
def fast_limits(settings):
    settings.TELEGRAM_SENDS_PER_SECOND = FAST["per_second"]
    settings.TELEGRAM_CHAT_INTERVAL_SECONDS = FAST["chat_interval"]


def _owe(chats: int, *, per_chat: int = 1) -> list[int]:
    """`per_chat` reminders owed to each of `chats` chats, due in a shuffled order (not the
    order of their ids): the chat ids in the order they fell due, oldest first."""
    now = timezone.now()
    for n in range(chats):
        user = UserFactory()
        TelegramProfile.objects.create(user=user, telegram_id=FIRST_CHAT + n, access_hash=1)
        for _ in range(per_chat):
            habit = HabitFactory(user=user, start_date=now.date())
            make_instance(habit, now.date(), now - timedelta(seconds=5), status=Status.PENDING)
    assert notifications_decide(now=now) == chats * per_chat
    rows = list(OutboxMessage.objects.order_by("id"))
    # Due one millisecond apart, every third one earlier than its id says.
    rank = sorted(range(len(rows)), key=lambda i: (i % 3, i))
    for position, i in enumerate(rank):
        rows[i].next_attempt_at = now - timedelta(seconds=10) + timedelta(milliseconds=position)
    OutboxMessage.objects.bulk_update(rows, ["next_attempt_at"])
    return [rows[i].telegram_id for i in rank]


def _unsent() -> int:
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()


async def test_a_burst_across_many_chats_goes_out_paced_oldest_first_and_once(fast_limits):
    telegram = LimitedTelegram(**FAST)
    due_order = await database_sync_to_async(_owe)(100)

    started = time.monotonic()
    assert await Relay(limited_client(telegram)).deliver_due() == 100
    elapsed = time.monotonic() - started

    assert telegram.flood_waits == []
    assert telegram.chats() == due_order
    assert telegram.sent_twice() == 0
    assert await database_sync_to_async(_unsent)() == 0
    assert elapsed >= (100 - telegram.burst) / FAST["per_second"]  # paced, not at once


async def test_the_fake_refuses_a_burst_the_relay_does_not_pace(settings):
    """The fake's limit is real: the same burst, paced ten times too fast, meets FloodWait."""
    settings.TELEGRAM_SENDS_PER_SECOND = 10 * FAST["per_second"]
    telegram = LimitedTelegram(**FAST)
    await database_sync_to_async(_owe)(60)
    client = limited_client(telegram)
    client.flood_sleep_threshold = 0  # every FloodWait reaches the relay: no Telethon retry

    sent = await Relay(client).deliver_due()

    assert telegram.flood_waits
    assert sent == len(telegram.accepted) < 60


async def test_many_messages_to_one_chat_go_out_a_second_apart_without_holding_others(settings):
    settings.TELEGRAM_CHAT_INTERVAL_SECONDS = 1.0
    telegram = LimitedTelegram(chat_interval=1.0)
    await database_sync_to_async(_owe)(1, per_chat=3)  # three reminders to chat FIRST_CHAT
    due_others = await database_sync_to_async(_others_due_after)(10)

    assert await Relay(limited_client(telegram)).deliver_due() == 13

    assert telegram.flood_waits == []
    assert telegram.closest_in_one_chat() >= 1.0
    one_chat = [a.at for a in telegram.accepted if a.chat == FIRST_CHAT]
    others = [a for a in telegram.accepted if a.chat != FIRST_CHAT]
    assert len(one_chat) == 3
    assert [a.chat for a in others] == due_others
    assert all(a.at < one_chat[1] for a in others)  # the busy chat's wait held no one up


def _others_due_after(chats: int) -> list[int]:
    """`chats` more chats, each owed one reminder due after the busy chat's three."""
    now = timezone.now()
    for n in range(1, chats + 1):
        user = UserFactory()
        TelegramProfile.objects.create(user=user, telegram_id=FIRST_CHAT + n, access_hash=1)
        habit = HabitFactory(user=user, start_date=now.date())
        make_instance(habit, now.date(), now - timedelta(seconds=5), status=Status.PENDING)
    assert notifications_decide(now=now) == chats
    return [FIRST_CHAT + n for n in range(1, chats + 1)]


async def test_a_floodwait_that_still_happens_is_honoured_and_the_message_retried(fast_limits):
    telegram = LimitedTelegram(per_second=20.0, chat_interval=0.2)  # tighter than the pacing
    await database_sync_to_async(_owe)(30)
    client = limited_client(telegram)
    client.flood_sleep_threshold = 0  # the relay, not Telethon, handles every FloodWait
    relay = Relay(client)

    deadline = time.monotonic() + 20
    while await database_sync_to_async(_unsent)():
        assert time.monotonic() < deadline, "the refused messages were not retried in time"
        await relay.deliver_due()
        await asyncio.sleep(0.2)

    assert telegram.flood_waits
    assert len(telegram.accepted) == 30
    assert telegram.sent_twice() == 0
    rows = await database_sync_to_async(list)(OutboxMessage.objects.all())
    assert all(r.sent_at and r.given_up_at is None for r in rows)
    assert all(r.attempts == 0 for r in rows)  # a wait Telegram asked for is not a failure


async def test_a_relay_stopped_mid_burst_leaves_the_rest_to_the_next_one_none_twice(
    fast_limits, monkeypatch
):
    monkeypatch.setattr("telegram.relay.BATCH", 20)  # two batches in flight when it stops
    telegram = LimitedTelegram(**FAST)
    due_order = await database_sync_to_async(_owe)(60)
    first = asyncio.create_task(Relay(limited_client(telegram)).deliver_due())
    while len(telegram.accepted) < 25:
        await asyncio.sleep(0.01)

    first.cancel()  # SIGTERM: runbot cancels the relay
    with pytest.raises(asyncio.CancelledError):
        await first
    accepted_before = len(telegram.accepted)
    sent_rows = await database_sync_to_async(
        OutboxMessage.objects.filter(sent_at__isnull=False).count
    )()
    assert sent_rows == accepted_before  # every accepted message was marked sent
    leased = await database_sync_to_async(
        OutboxMessage.objects.filter(sent_at__isnull=True, next_attempt_at__gt=timezone.now()).count
    )()
    assert leased == 0  # the claimed, unstarted ones were given back, not left for the lease

    second = Relay(limited_client(telegram), Pacer())  # the restarted bot
    assert await second.deliver_due() == 60 - accepted_before

    assert telegram.sent_twice() == 0
    assert telegram.chats() == due_order
    assert telegram.flood_waits == []


async def test_a_message_waiting_past_its_lease_is_claimed_again_but_sent_once(
    fast_limits, monkeypatch
):
    """A long FloodWait or a busy chat keeps claimed messages waiting longer than the lease:
    the next claim hands them out again, and the relay, which holds them already, does not
    send them twice."""
    monkeypatch.setattr("telegram.services.outbox.LEASE", timedelta(milliseconds=20))
    monkeypatch.setattr("telegram.relay.BATCH", 10)
    telegram = LimitedTelegram(**FAST)
    due_order = await database_sync_to_async(_owe)(40)

    assert await Relay(limited_client(telegram)).deliver_due() == 40

    assert telegram.sent_twice() == 0
    assert telegram.chats() == due_order


async def test_telethons_own_flood_retries_spent_leave_the_message_for_later(bot, fake_telegram):
    """Telethon sleeps through short FloodWaits and retries the request itself; when its
    retries are spent it raises a ValueError, which must not stop the relay or lose the
    message."""
    await database_sync_to_async(_owe)(1)
    fake_telegram.flood_waits = [1] * 6  # Telethon tries six times in all

    assert await Relay(bot).deliver_due() == 0

    row = await database_sync_to_async(OutboxMessage.objects.get)()
    assert row.sent_at is None
    assert row.given_up_at is None
    assert "Request was unsuccessful" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert fake_telegram.sent() == []
