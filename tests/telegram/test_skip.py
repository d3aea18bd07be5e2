"""Skipping from the bot, /pause and /resume, no reminder for a skipped instance, and the
message of a finished course (SPEC §7; RELIABILITY K1, R1)."""

import asyncio
from datetime import date, timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from core.events import record
from instances.events import PROGRAM_FINISHED
from instances.models import HabitInstance, Pause, SkipReason, Source, Status
from instances.services import instance_complete, instance_skip, instances_sweep, pause_create
from telegram.handlers import HELP, NOT_LINKED, PAUSE_USAGE
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.relay import Relay
from telegram.services import notifications_decide
from tests.factories import make_instance
from tests.realtime.conftest import Socket, access_token_for
from tests.telegram.conftest import bound_user_with_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001


setup = database_sync_to_async(bound_user_with_instance)
fresh = database_sync_to_async(lambda i: HabitInstance.objects.get(pk=i.pk))


def _reminded() -> int:
    instances_sweep()
    return notifications_decide()


async def _reminder_sent(bot, fake_telegram) -> object:
    """The sweep makes the instance pending... its reminder owed, then sent by the bot."""
    assert await database_sync_to_async(_reminded)() == 1
    assert await Relay(bot).deliver_due() == 1
    (reminder,) = fake_telegram.sent()
    return reminder


# --- the Skip button -------------------------------------------------------------------------


async def test_skip_on_a_reminder_skips_and_the_outbox_edits_the_reminder(
    bot, chat_as, fake_telegram
):
    _, instance = await setup(status=Status.SCHEDULED)
    reminder = await _reminder_sent(bot, fake_telegram)
    (_, done_data), (skip_label, skip_data), *_snooze = fake_telegram.buttons(reminder)
    assert (done_data, skip_data) == (
        f"done:{instance.pk}".encode(),
        f"skip:{instance.pk}".encode(),
    )
    assert skip_label.startswith("Skip")
    message_id = fake_telegram.next_message_id

    await chat_as(ANN).press(skip_data, msg_id=message_id)

    skipped = await fresh(instance)
    assert (skipped.status, skipped.skip_reason) == (Status.SKIPPED, SkipReason.OTHER)
    (answer,) = fake_telegram.answers()
    assert answer.message == "Skipped: stretch ⏭"
    assert fake_telegram.edits() == []  # the reminder is the outbox's to edit

    assert await Relay(bot).deliver_due() == 1
    (edit,) = fake_telegram.edits()
    assert (edit.id, edit.message) == (message_id, "⏭ stretch (home): skipped.")
    assert edit.reply_markup is None  # the buttons go


async def test_skip_from_today_skips_and_redraws_the_list_and_the_socket_hears_it(
    chat_as, fake_telegram
):
    user, instance = await setup()
    socket = Socket(await database_sync_to_async(access_token_for)(user))
    await socket.open()
    await socket.frames_until_quiet(quiet=0.2)  # hello, snapshot
    chat = chat_as(ANN)
    await chat.say("/today")
    (listing,) = fake_telegram.sent()
    skip_data = fake_telegram.buttons(listing)[1][1]

    await chat.press(skip_data, msg_id=fake_telegram.next_message_id)

    assert (await fresh(instance)).status == Status.SKIPPED
    assert [a.message for a in fake_telegram.answers()] == ["Skipped: stretch ⏭"]
    (edit,) = fake_telegram.edits()
    assert edit.id == fake_telegram.next_message_id
    assert edit.message == "Today:\n⏭ stretch (skipped)"
    assert edit.reply_markup is None  # nothing left open
    frames = [f for f in await socket.frames_until_quiet() if f["type"] == "instance.updated"]
    assert [f["data"]["status"] for f in frames] == ["skipped"]
    await socket.close()


async def test_skip_on_a_done_instance_is_refused_in_words(chat_as, fake_telegram):
    def done():
        _, instance = bound_user_with_instance()
        instance_complete(
            instance_id=instance.pk, user_id=instance.user_id, at=timezone.now(), source=Source.WEB
        )
        return instance

    instance = await database_sync_to_async(done)()

    await chat_as(ANN).press(f"skip:{instance.pk}".encode())

    assert (await fresh(instance)).status == Status.COMPLETED
    (answer,) = fake_telegram.answers()
    assert answer.alert
    assert answer.message == "This instance is completed; only an open instance can be skipped."
    assert fake_telegram.edits() == []


async def test_skip_on_another_users_instance_is_not_found(chat_as, fake_telegram):
    await setup()
    _, theirs = await setup(telegram_id=2002, action="theirs")

    await chat_as(ANN).press(f"skip:{theirs.pk}".encode())

    assert (await fresh(theirs)).status == Status.PENDING
    assert [a.message for a in fake_telegram.answers()] == ["Not found."]


async def test_skip_from_an_unbound_chat_is_told_to_link(chat_as, fake_telegram):
    _, instance = await setup()

    await chat_as(5555).press(f"skip:{instance.pk}".encode())

    assert (await fresh(instance)).status == Status.PENDING
    (answer,) = fake_telegram.answers()
    assert (answer.message, answer.alert) == (NOT_LINKED, True)


async def test_skipping_twice_answers_twice_and_changes_once(chat_as, fake_telegram):
    _, instance = await setup()
    chat = chat_as(ANN)

    await chat.press(f"skip:{instance.pk}".encode())
    await chat.press(f"skip:{instance.pk}".encode())

    assert (await fresh(instance)).status == Status.SKIPPED
    assert len(fake_telegram.answers()) == 2


# --- no reminder for a skipped instance ------------------------------------------------------


async def test_a_reminder_owed_then_skipped_on_the_web_is_never_sent(bot, fake_telegram):
    def owed_then_skipped() -> HabitInstance:
        _, instance = bound_user_with_instance(status=Status.SCHEDULED)
        assert _reminded() == 1
        instance_skip(instance_id=instance.pk, user_id=instance.user_id)
        return instance

    instance = await database_sync_to_async(owed_then_skipped)()

    assert await Relay(bot).deliver_due() == 0
    assert fake_telegram.requests == []
    (reminder,) = await database_sync_to_async(list)(
        OutboxMessage.objects.filter(instance_id=instance.pk)
    )
    assert reminder.given_up_at is not None
    assert reminder.last_error == "skipped before it was sent"


async def test_a_reminder_of_an_instance_skipped_by_any_path_is_given_up_when_claimed(
    bot, fake_telegram
):
    def owed_then_skipped_behind_the_outboxs_back() -> HabitInstance:
        _, instance = bound_user_with_instance(status=Status.SCHEDULED)
        assert _reminded() == 1
        HabitInstance.objects.filter(pk=instance.pk).update(
            status=Status.SKIPPED, skip_reason=SkipReason.SICK
        )
        return instance

    instance = await database_sync_to_async(owed_then_skipped_behind_the_outboxs_back)()

    assert await Relay(bot).deliver_due() == 0
    assert fake_telegram.requests == []
    reminder = await database_sync_to_async(OutboxMessage.objects.get)(instance_id=instance.pk)
    assert (reminder.given_up_at is not None, reminder.last_error) == (
        True,
        "the instance is skipped",
    )


async def test_a_sent_reminder_is_edited_to_skipped_when_a_pause_covers_the_day(bot, fake_telegram):
    _, instance = await setup(status=Status.SCHEDULED)
    await _reminder_sent(bot, fake_telegram)

    def paused() -> None:
        user = HabitInstance.objects.get(pk=instance.pk).user
        pause_create(user=user, start_date=instance.date, end_date=instance.date)

    await database_sync_to_async(paused)()

    assert (await fresh(instance)).skip_reason == SkipReason.REST
    assert await Relay(bot).deliver_due() == 1
    (edit,) = fake_telegram.edits()
    assert edit.message == "⏭ stretch (home): skipped."
    kinds = await database_sync_to_async(list)(
        OutboxMessage.objects.filter(instance_id=instance.pk).values_list("kind", flat=True)
    )
    assert sorted(kinds) == [OutboxKind.REMINDER, OutboxKind.SKIPPED]


# --- /pause and /resume ----------------------------------------------------------------------


async def test_pause_skips_every_habit_and_resume_brings_them_back(chat_as, fake_telegram):
    _, instance = await setup()
    today = instance.date
    chat = chat_as(ANN)

    await chat.say(f"/pause {today} {today + timedelta(days=6)}")

    paused = await fresh(instance)
    assert (paused.status, paused.skip_reason) == (Status.SKIPPED, SkipReason.REST)
    assert fake_telegram.texts()[-1].startswith(
        f"Paused every habit from {today} to {today + timedelta(days=6)} (7 days)"
    )

    await chat.say("/resume")

    assert (await fresh(instance)).status == Status.PENDING  # back by the clock
    assert fake_telegram.texts()[-1].startswith("Resumed")
    assert await database_sync_to_async(Pause.objects.count)() == 0  # it had not begun before

    await chat.say("/resume")

    assert fake_telegram.texts()[-1] == "Nothing is paused today."


async def test_resume_ends_a_pause_begun_earlier_and_keeps_the_days_already_paused(
    chat_as, fake_telegram
):
    user, instance = await setup()
    today = instance.date

    def paused_since_yesterday() -> tuple[Pause, HabitInstance]:
        at = instance.scheduled_at - timedelta(days=1)
        yesterdays = make_instance(instance.habit, today - timedelta(days=1), at, status="missed")
        pause = pause_create(
            user=user, start_date=today - timedelta(days=1), end_date=today + timedelta(days=3)
        )
        return pause, yesterdays

    pause, yesterdays = await database_sync_to_async(paused_since_yesterday)()
    assert (await fresh(instance)).status == Status.SKIPPED

    await chat_as(ANN).say("/resume@HabitsBot")

    assert (await fresh(instance)).status == Status.PENDING
    assert (await fresh(yesterdays)).status == Status.SKIPPED
    ended = await database_sync_to_async(Pause.objects.get)(pk=pause.pk)
    assert ended.end_date == today - timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/pause", PAUSE_USAGE),
        ("/pause 2026-12-24", PAUSE_USAGE),
        ("/pause 2026-12-24 2026-12-25 2026-12-26", PAUSE_USAGE),
        ("/pause tomorrow 2026-12-25", "“tomorrow” is not a date (YYYY-MM-DD)."),
        ("/pause 2026-02-30 2026-03-02", "“2026-02-30” is not a date (YYYY-MM-DD)."),
        ("/pause 2026-12-24 24.12.2026", "“24.12.2026” is not a date (YYYY-MM-DD)."),
        ("/pause 2026-12-31 2026-12-24", "The last day (2026-12-24) comes before the first"),
        ("/pause 2026-01-01 2027-01-01", "A pause lasts at most 365 days; that is 366."),
    ],
)
async def test_bad_pause_input_is_answered_clearly_and_pauses_nothing(
    chat_as, fake_telegram, text, answer
):
    _, instance = await setup()

    await chat_as(ANN).say(text)

    (reply,) = fake_telegram.texts()
    assert reply.startswith(answer)
    assert (await fresh(instance)).status == Status.PENDING
    assert await database_sync_to_async(Pause.objects.count)() == 0


async def test_a_pause_of_exactly_365_days_is_accepted(chat_as, fake_telegram):
    await setup()
    first = date(2027, 1, 1)

    await chat_as(ANN).say(f"/pause {first} {first + timedelta(days=364)}")

    assert "(365 days)" in fake_telegram.texts()[0]
    assert await database_sync_to_async(Pause.objects.count)() == 1


@pytest.mark.parametrize("text", ["/pause 2027-01-01 2027-01-02", "/resume"])
async def test_pause_and_resume_in_an_unbound_chat_say_how_to_link(chat_as, fake_telegram, text):
    await chat_as(5555).say(text)

    assert fake_telegram.texts() == [NOT_LINKED]
    assert await database_sync_to_async(Pause.objects.count)() == 0


async def test_help_names_the_new_commands_and_other_text_points_to_them(chat_as, fake_telegram):
    chat = chat_as(ANN)

    await chat.say("/help")
    await chat.say("hello")

    help_text, other = fake_telegram.texts()
    assert help_text == HELP
    assert "/pause" in help_text
    assert "/resume" in help_text
    assert "Skip" in help_text
    assert "/pause FIRST LAST" in other


# --- the course finished ---------------------------------------------------------------------


def _finished(instance: HabitInstance, done: int = 19, limit: int = 21) -> None:
    with transaction.atomic():
        record(
            PROGRAM_FINISHED, habit_id=instance.habit_id, user_id=instance.user_id, done=done,
            limit=limit,
        )  # fmt: skip


async def test_a_finished_course_sends_the_result_once(bot, fake_telegram):
    _, instance = await setup()

    await database_sync_to_async(_finished)(instance)
    await database_sync_to_async(_finished)(instance)  # told again: still one message

    assert await Relay(bot).deliver_due() == 1
    (message,) = fake_telegram.sent()
    assert message.message == "🏁 Course finished: 19 of 21 done — stretch."
    assert fake_telegram.buttons(message) == []

    await database_sync_to_async(_finished)(instance, 28, 30)  # lengthened, finished anew

    assert await Relay(bot).deliver_due() == 1
    assert fake_telegram.texts()[-1] == "🏁 Course finished: 28 of 30 done — stretch."


async def test_a_finished_course_of_a_user_without_telegram_owes_nothing(bot, fake_telegram):
    def unbound() -> HabitInstance:
        _, instance = bound_user_with_instance()
        TelegramProfile.objects.filter(user_id=instance.user_id).delete()
        return instance

    instance = await database_sync_to_async(unbound)()

    await database_sync_to_async(_finished)(instance)

    assert await database_sync_to_async(OutboxMessage.objects.count)() == 0
    assert await Relay(bot).deliver_due() == 0


async def test_done_on_a_skipped_instance_is_refused_in_words(chat_as, fake_telegram):
    _, instance = await setup()
    chat = chat_as(ANN)
    await chat.press(f"skip:{instance.pk}".encode())

    await chat.press(f"done:{instance.pk}".encode())  # an old reminder's button

    assert (await fresh(instance)).status == Status.SKIPPED
    refusal = fake_telegram.answers()[-1]
    assert refusal.alert
    assert "skipped" in refusal.message


async def test_done_and_skip_pressed_together_change_the_instance_once(chat_as, fake_telegram):
    _, instance = await setup()
    chat = chat_as(ANN)

    await asyncio.gather(
        chat.press(f"done:{instance.pk}".encode()), chat.press(f"skip:{instance.pk}".encode())
    )

    status = (await fresh(instance)).status
    assert status in (Status.COMPLETED, Status.SKIPPED)
    answers = fake_telegram.answers()
    assert len(answers) == 2
    assert sum(a.alert for a in answers) == 1  # the loser is told why, in words


async def test_a_finished_course_rolled_back_owes_nothing(bot, fake_telegram):
    _, instance = await setup()

    def finished_then_rolled_back() -> None:
        with transaction.atomic():
            _finished(instance)  # its own savepoint, inside the outer transaction
            transaction.set_rollback(True)

    await database_sync_to_async(finished_then_rolled_back)()

    assert await database_sync_to_async(OutboxMessage.objects.count)() == 0
    assert await Relay(bot).deliver_due() == 0
