"""Habit stacking through the bot: "Done" pressed in the chat on the cue habit owes the
stacked habit's reminder, and the relay sends it (SPEC §8)."""

from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async

from instances.models import Status
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.relay import Relay
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001


def _stacked_on_coffee():
    user = UserFactory()
    TelegramProfile.objects.create(user=user, telegram_id=ANN, access_hash=3, username="ann")
    now = datetime.now(UTC)
    coffee = HabitFactory(user=user, action="pour coffee")
    stretch = HabitFactory(
        user=user, action="stretch", place="the mat", cue_habit=coffee, cue_delay_minutes=0
    )
    make_instance(stretch, now.date(), now + timedelta(hours=1))
    return make_instance(coffee, now.date(), now - timedelta(minutes=1), status=Status.PENDING)


async def test_done_pressed_in_the_chat_sends_the_stacked_habits_reminder(
    bot, chat_as, fake_telegram
):
    cue = await database_sync_to_async(_stacked_on_coffee)()

    await chat_as(ANN).press(f"done:{cue.pk}".encode())
    await chat_as(ANN).press(f"done:{cue.pk}".encode())  # pressed twice

    assert await Relay(bot).deliver_due() == 1
    assert fake_telegram.texts() == ["After pour coffee: stretch at the mat"]
    owed = database_sync_to_async(lambda: OutboxMessage.objects.filter(kind=OutboxKind.CUE).count())
    assert await owed() == 1
