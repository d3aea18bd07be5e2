"""The bot stops serving a deactivated user (RELIABILITY A11): no reminders, and /today,
"Done" and /bind answer as if the chat were not linked, changing nothing."""

from functools import partial

import pytest
from channels.db import database_sync_to_async

from accounts.services import user_deactivate
from instances.models import HabitInstance, Status
from instances.services import instances_sweep
from telegram.handlers import BIND_ANSWERS, NOT_LINKED
from telegram.models import OutboxMessage, TelegramProfile
from telegram.relay import Relay
from telegram.services import BindOutcome, bind_code_issue, notifications_decide
from tests.factories import UserFactory
from tests.telegram.conftest import bound_user_with_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001


def _sweep_and_decide() -> int:
    instances_sweep()
    return notifications_decide()


# Due a few seconds ago, `scheduled`: the sweep makes it pending and owes a reminder.
setup = database_sync_to_async(partial(bound_user_with_instance, status=Status.SCHEDULED))
deactivate = database_sync_to_async(lambda user: user_deactivate(user=user))
status_of = database_sync_to_async(lambda i: HabitInstance.objects.get(pk=i.pk).status)


async def test_a_deactivated_user_is_owed_no_reminder(bot, fake_telegram):
    user, _ = await setup()
    await deactivate(user)

    assert await database_sync_to_async(_sweep_and_decide)() == 0
    assert await Relay(bot).deliver_due() == 0
    assert fake_telegram.requests == []


async def test_a_reminder_owed_before_the_deactivation_is_never_sent(bot, fake_telegram):
    user, instance = await setup()
    assert await database_sync_to_async(_sweep_and_decide)() == 1
    await deactivate(user)

    assert await Relay(bot).deliver_due() == 0

    assert fake_telegram.requests == []
    row = await database_sync_to_async(OutboxMessage.objects.get)(instance=instance)
    assert (row.sent_at, row.given_up_at is not None) == (None, True)
    assert row.last_error == "the user is deactivated"


async def test_today_answers_a_deactivated_user_as_not_linked(chat_as, fake_telegram):
    user, _ = await setup(status=Status.PENDING)
    await deactivate(user)

    await chat_as(ANN).say("/today")

    assert fake_telegram.texts() == [NOT_LINKED]


async def test_done_from_a_deactivated_user_is_refused_politely_and_changes_nothing(
    chat_as, fake_telegram
):
    user, instance = await setup(status=Status.PENDING)
    await deactivate(user)

    await chat_as(ANN).press(f"done:{instance.pk}".encode())

    assert await status_of(instance) == Status.PENDING
    assert [a.message for a in fake_telegram.answers()] == [NOT_LINKED]


async def test_a_deactivated_users_bind_code_binds_nothing(chat_as, fake_telegram):
    user = await database_sync_to_async(UserFactory)()
    code = (await database_sync_to_async(lambda: bind_code_issue(user=user))()).code
    await deactivate(user)

    await chat_as(2002).say(f"/bind {code}")

    assert fake_telegram.texts() == [BIND_ANSWERS[BindOutcome.INVALID]]
    assert not await database_sync_to_async(TelegramProfile.objects.filter(user=user).exists)()
