"""A reply in the chat to a reminder, or to its "done" message, becomes that instance's note
(SPEC §8), through real Telethon update objects: a message with `reply_to`."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete, instances_sweep
from telegram.handlers import NOT_LINKED, NOTE_EMPTY, NOTE_HOW, OTHER
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.relay import Relay
from telegram.services import notifications_decide
from tests.factories import UserFactory
from tests.realtime.conftest import Socket, access_token_for
from tests.telegram.conftest import bound_user_with_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN, BOB = 1001, 2002


def _sent(instance: HabitInstance, message_id: int, kind: str = OutboxKind.REMINDER) -> None:
    """The bot sent the chat of the instance's owner this message about it."""
    profile = TelegramProfile.objects.get(user_id=instance.user_id)
    now = timezone.now()
    OutboxMessage.objects.create(
        kind=kind, instance=instance, telegram_id=profile.telegram_id, next_attempt_at=now,
        sent_at=now, message_id=message_id,
    )  # fmt: skip


setup = database_sync_to_async(bound_user_with_instance)
sent = database_sync_to_async(_sent)
note_of = database_sync_to_async(lambda i: HabitInstance.objects.get(pk=i.pk).note)


def _reminded() -> int:
    instances_sweep()
    return notifications_decide()


async def test_a_reply_to_a_reminder_becomes_its_note_and_the_web_hears_it(
    bot, chat_as, fake_telegram
):
    user, instance = await setup(status=Status.SCHEDULED)
    assert await database_sync_to_async(_reminded)() == 1
    assert await Relay(bot).deliver_due() == 1
    reminder_id = fake_telegram.next_message_id
    socket = Socket(await database_sync_to_async(access_token_for)(user))
    await socket.open()
    await socket.frames_until_quiet(quiet=0.2)  # hello, snapshot

    await chat_as(ANN).say("  only 10 minutes today ", reply_to=reminder_id)

    assert await note_of(instance) == "only 10 minutes today"
    assert fake_telegram.texts()[1:] == ["Noted on stretch."]  # and nothing else
    frames = [f for f in await socket.frames_until_quiet() if f["type"] == "instance.updated"]
    assert [(f["data"]["id"], f["data"]["note"]) for f in frames] == [
        (instance.pk, "only 10 minutes today")
    ]
    await socket.close()


async def test_a_reply_to_the_done_message_notes_the_done_instance(bot, chat_as, fake_telegram):
    def reminded_then_done_on_the_web() -> HabitInstance:
        _, instance = bound_user_with_instance(status=Status.SCHEDULED)
        assert _reminded() == 1
        return instance

    instance = await database_sync_to_async(reminded_then_done_on_the_web)()
    assert await Relay(bot).deliver_due() == 1
    message_id = fake_telegram.next_message_id
    await database_sync_to_async(instance_complete)(
        instance_id=instance.pk, user_id=instance.user_id, at=timezone.now(), source=Source.WEB
    )
    assert await Relay(bot).deliver_due() == 1  # the reminder edited to "done"
    (edit,) = fake_telegram.edits()
    assert (edit.id, edit.message) == (message_id, "✅ stretch (home): done.")

    await chat_as(ANN).say("felt great", reply_to=message_id)

    assert await note_of(instance) == "felt great"
    assert fake_telegram.texts()[-1] == "Noted on stretch."
    done = await database_sync_to_async(HabitInstance.objects.get)(pk=instance.pk)
    assert done.status == Status.COMPLETED  # a note changes nothing else


async def test_a_second_reply_replaces_the_note(chat_as, fake_telegram):
    _, instance = await setup()
    await sent(instance, 77)
    chat = chat_as(ANN)

    await chat.say("first", reply_to=77)
    await chat.say("second thoughts", reply_to=77)

    assert await note_of(instance) == "second thoughts"
    assert fake_telegram.texts() == ["Noted on stretch.", "Noted on stretch."]


async def test_a_reply_to_any_other_message_is_explained_not_kept(chat_as, fake_telegram):
    _, instance = await setup()
    await sent(instance, 77, kind=OutboxKind.FINISHED)  # about the course, not the day
    chat = chat_as(ANN)
    await chat.say("/today")
    listing_id = fake_telegram.next_message_id

    await chat.say("what about this", reply_to=listing_id)
    await chat.say("and this", reply_to=77)
    await chat.say("or my own", reply_to=3)

    assert await note_of(instance) == ""
    assert fake_telegram.texts()[1:] == [NOTE_HOW] * 3


async def test_a_reply_to_a_message_about_someone_elses_instance_is_not_kept(
    chat_as, fake_telegram
):
    _, mine = await setup()
    _, theirs = await setup(telegram_id=BOB, action="theirs")
    await sent(theirs, 88)  # sent to Bob's chat, message 88 there

    await chat_as(ANN).say("mine now", reply_to=88)

    assert (await note_of(theirs), await note_of(mine)) == ("", "")
    assert fake_telegram.texts() == [NOTE_HOW]


async def test_a_chat_linked_anew_cannot_note_the_old_accounts_instances(chat_as, fake_telegram):
    def relinked() -> HabitInstance:
        old, instance = bound_user_with_instance()
        _sent(instance, 55)
        TelegramProfile.objects.filter(user=old).update(user=UserFactory())
        return instance

    instance = await database_sync_to_async(relinked)()

    await chat_as(ANN).say("hello", reply_to=55)

    assert await note_of(instance) == ""
    assert fake_telegram.texts() == [NOTE_HOW]


async def test_an_unbound_chat_is_told_to_link(chat_as, fake_telegram):
    _, instance = await setup()
    await sent(instance, 66)

    await chat_as(5555).say("a note", reply_to=66)

    assert await note_of(instance) == ""
    assert fake_telegram.texts() == [NOT_LINKED]


async def test_a_note_too_long_or_empty_is_refused_in_words(chat_as, fake_telegram):
    _, instance = await setup()
    await sent(instance, 77)
    chat = chat_as(ANN)

    await chat.say("x" * 1001, reply_to=77)
    await chat.say("", reply_to=77)  # a sticker, say

    assert await note_of(instance) == ""
    assert fake_telegram.texts() == [
        "That note is too long: at most 1,000 characters, and yours has 1,001.",
        NOTE_EMPTY,
    ]


async def test_a_command_sent_as_a_reply_is_the_command_and_plain_text_is_not_a_note(
    chat_as, fake_telegram
):
    _, instance = await setup()
    await sent(instance, 77)
    chat = chat_as(ANN)

    await chat.say("/today", reply_to=77)
    await chat.say("hello")

    assert await note_of(instance) == ""
    listing, other = fake_telegram.texts()
    assert listing.startswith("Today:")
    assert other == OTHER
