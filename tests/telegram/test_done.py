"""Pressing "Done" and /today (RELIABILITY B5, B6, B8)."""

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from channels.db import database_sync_to_async

from instances.models import HabitInstance, Status
from telegram.handlers import NOT_LINKED
from tests.factories import HabitFactory, make_instance
from tests.realtime.conftest import Socket, access_token_for
from tests.telegram.conftest import bound_user_with_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001


setup = database_sync_to_async(partial(bound_user_with_instance, due_ago=timedelta(minutes=1)))
status_of = database_sync_to_async(lambda i: HabitInstance.objects.get(pk=i.pk).status)


async def test_done_from_a_raw_update_completes_and_the_web_socket_hears_it(chat_as, fake_telegram):
    user, instance = await setup()
    socket = Socket(await database_sync_to_async(access_token_for)(user))
    await socket.open()
    await socket.frames_until_quiet(quiet=0.2)  # hello, snapshot

    await chat_as(ANN).press(f"done:{instance.pk}".encode())

    assert await status_of(instance) == Status.COMPLETED
    frames = await socket.frames_until_quiet()
    updates = [f for f in frames if f["type"] == "instance.updated"]
    assert len(updates) == 1
    assert updates[0]["data"]["source"] == "telegram"
    (answer,) = fake_telegram.answers()
    assert "Done: stretch" in answer.message
    await socket.close()


async def test_a_forged_press_for_another_users_instance_is_not_found_and_changes_nothing(
    chat_as, fake_telegram
):
    await setup(ANN)
    _, theirs = await setup(2002, action="their habit")

    await chat_as(ANN).press(f"done:{theirs.pk}".encode())

    assert await status_of(theirs) == Status.PENDING
    assert [a.message for a in fake_telegram.answers()] == ["Not found."]
    assert fake_telegram.sent() == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"done:",
        b"done:abc",
        b"done:-1",
        b"rm -rf /",
        b"done:" + b"9" * 40,
        b"\xff\xfe",
        b"done:99999999999999",
    ],
)
async def test_garbage_callback_data_gets_a_polite_answer_and_changes_nothing(
    chat_as, fake_telegram, data
):
    _, instance = await setup()

    await chat_as(ANN).press(data)

    assert await status_of(instance) == Status.PENDING
    assert len(fake_telegram.answers()) == 1


async def test_an_unbound_user_pressing_a_button_is_told_to_link(chat_as, fake_telegram):
    _, instance = await setup()

    await chat_as(5555).press(f"done:{instance.pk}".encode())

    assert await status_of(instance) == Status.PENDING
    (answer,) = fake_telegram.answers()
    assert (answer.message, answer.alert) == (NOT_LINKED, True)


async def test_pressing_done_twice_answers_twice_and_changes_once(chat_as, fake_telegram):
    _, instance = await setup()
    chat = chat_as(ANN)

    await chat.press(f"done:{instance.pk}".encode())
    await chat.press(f"done:{instance.pk}".encode())

    assert await status_of(instance) == Status.COMPLETED
    assert len(fake_telegram.answers()) == 2


async def test_today_lists_the_day_with_done_and_skip_per_open_instance(chat_as, fake_telegram):
    user, open_one = await setup()

    def finished():
        habit = HabitFactory(user=user, start_date=open_one.date, action="read")
        return make_instance(
            habit,
            open_one.date,
            open_one.scheduled_at,
            status=Status.COMPLETED,
            completed_at=open_one.scheduled_at,
        )

    await database_sync_to_async(finished)()

    await chat_as(ANN).say("/today")

    (message,) = fake_telegram.sent()
    assert "stretch" in message.message
    assert "read" in message.message
    assert fake_telegram.buttons(message) == [
        ("Done: stretch", f"done:{open_one.pk}".encode()),
        ("Skip ⏭", f"skip:{open_one.pk}".encode()),
    ]


async def test_today_for_an_unbound_chat_says_how_to_link(chat_as, fake_telegram):
    await chat_as(5555).say("/today")

    assert "not linked" in fake_telegram.texts()[0]


async def test_a_press_too_late_answers_the_refusal(chat_as, fake_telegram):
    def late():
        _, instance = bound_user_with_instance(due_ago=timedelta(minutes=1))
        past = datetime.now(UTC) - timedelta(days=1, hours=-1)
        HabitInstance.objects.filter(pk=instance.pk).update(
            date=past.date(),
            scheduled_at=past,
            grace_deadline=past,
            fix_deadline=past,
            status=Status.MISSED,
        )
        return instance

    instance = await database_sync_to_async(late)()

    await chat_as(ANN).press(f"done:{instance.pk}".encode())

    assert await status_of(instance) == Status.FIX_EXPIRED
    assert "fix window" in fake_telegram.answers()[0].message


async def test_handlers_run_concurrently_without_crashing(chat_as, fake_telegram):
    _, instance = await setup()
    chat = chat_as(ANN)

    await asyncio.gather(*(chat.press(f"done:{instance.pk}".encode()) for _ in range(5)))

    assert await status_of(instance) == Status.COMPLETED
    assert len(fake_telegram.answers()) == 5
