"""The bot's Telethon handlers: parse, call the same services as the web, answer politely.

Identity is the sender id Telegram gives; every "Done" or "Skip" press, and every reply that
becomes a note, re-checks that the instance belongs to the user bound to that sender.
"""

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone
from telethon import Button, TelegramClient, events

from core.errors import Conflict, InvalidInput, NotFound
from instances.models import (
    DONE_STATUSES,
    NOTE_MAX_LENGTH,
    OPEN_STATUSES,
    PAUSE_MAX_DAYS,
    HabitInstance,
    SkipReason,
    Source,
    Status,
)
from instances.selectors import instance_list_today, pause_under_way
from instances.services import (
    instance_complete,
    instance_note,
    instance_skip,
    pause_create,
    pause_end,
)
from telegram import services
from telegram.selectors import instance_replied_to, is_reminder
from telegram.services import BindOutcome, TelegramSender

logger = logging.getLogger(__name__)

DONE_PREFIX = b"done:"
SKIP_PREFIX = b"skip:"
SNOOZE_PREFIX = b"snooze:"
BUTTON_DATA = re.compile(rb"^(done|skip):(\d{1,18})$")
SNOOZE_DATA = re.compile(rb"^snooze:(\d{1,18}):(\d{1,4})$")  # snooze:{instance id}:{minutes}
SNOOZE_LABELS = {15: "+15 min", 60: "+1 h"}
COMMAND = r"(?:@\w+)?"
COMMANDS = ("start", "help", "bind", "today", "pause", "resume", "unbind")

HELP = (
    "I remind you of your habits and let you tick them off.\n"
    "Link your account: in the web app open Profile → Connect Telegram, then send me "
    "/bind CODE (or just tap the link there).\n"
    "Then: /today lists today's habits, each with Done and Skip; "
    "/pause 2026-12-24 2026-12-31 pauses every habit from the first day to the last; "
    "/resume ends the pause under way today; /unbind unlinks this chat.\n"
    "Reply to a reminder (or its “done” message) with a few words: they become that day's note.\n"
    "Under a reminder, +15 min and +1 h remind you once more that much later."
)
OTHER = "I understand /today, /pause FIRST LAST, /resume, /bind CODE, /unbind and /help."
PAUSE_USAGE = "Send the first and last day to pause, like this: /pause 2026-12-24 2026-12-31"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BIND_ANSWERS = {
    BindOutcome.BOUND: "Linked! You will get reminders here. Try /today.",
    BindOutcome.INVALID: "That code is not valid: it may be mistyped, used, replaced or expired. "
    "Ask the web app for a new one.",
    BindOutcome.THROTTLED: "Too many wrong codes. Please wait a few minutes and try again.",
    BindOutcome.TAKEN: "This Telegram account is already linked to another user. "
    "Unlink it there first (/unbind).",
}
NOT_LINKED = "This chat is not linked to an account yet. Send /bind CODE (see /start)."
NOTE_HOW = (
    "I keep a note only as a reply to a reminder of mine (or its “done” message): reply to one "
    "of those with a few words and they become that day's note."
)
NOTE_EMPTY = "Reply with some text to keep it as the note."
NOTE_TOO_LONG = "That note is too long: at most {limit:,} characters, and yours has {length:,}."


def done_button(instance_id: int, label: str = "Done ✅") -> Button:
    return Button.inline(label[:60], data=DONE_PREFIX + str(instance_id).encode())


def skip_button(instance_id: int, label: str = "Skip ⏭") -> Button:
    return Button.inline(label[:60], data=SKIP_PREFIX + str(instance_id).encode())


def open_buttons(instance_id: int, done_label: str = "Done ✅") -> list[Button]:
    """One row: what an open instance can still become (reminders and `/today` alike)."""
    return [done_button(instance_id, done_label), skip_button(instance_id)]


def snooze_buttons(instance_id: int, minutes: Iterable[int]) -> list[Button]:
    """The row under a reminder: one more reminder that many minutes from the press."""
    return [
        Button.inline(
            SNOOZE_LABELS.get(m, f"+{m} min"), data=SNOOZE_PREFIX + f"{instance_id}:{m}".encode()
        )
        for m in minutes
    ]


TODAY_MARKS = {**dict.fromkeys(DONE_STATUSES, "✅"), Status.SKIPPED: "⏭"}


def _today_line(instance: HabitInstance) -> str:
    mark = TODAY_MARKS.get(instance.status, "•")
    return f"{mark} {instance.habit.action} ({instance.status.replace('_', ' ')})"


def _today_view(instances: list[HabitInstance]) -> tuple[str, list[list[Button]] | None]:
    """`/today`'s text and buttons (a row per open instance)."""
    if not instances:
        return "Nothing planned for today.", None
    lines = [_today_line(i) for i in instances]
    buttons = [open_buttons(i.pk, f"Done: {i.habit.action}") for i in instances
               if i.status in OPEN_STATUSES]  # fmt: skip
    return "Today:\n" + "\n".join(lines), buttons or None


def _iso_date(word: str) -> date | None:
    try:
        return date.fromisoformat(word) if ISO_DATE.match(word) else None
    except ValueError:  # 2026-02-30
        return None


def _pause_dates(words: str | None) -> tuple[date, date] | str:
    """The two days of `/pause FIRST LAST`, or what to answer instead. The order and the length
    are checked here for the chat's words; `pause_create` checks them again."""
    parts = (words or "").split()
    if len(parts) != 2:
        return PAUSE_USAGE
    days: list[date] = []
    for part in parts:
        if (day := _iso_date(part)) is None:
            return f"“{part[:20]}” is not a date (YYYY-MM-DD). {PAUSE_USAGE}"
        days.append(day)
    first, last = days
    if last < first:
        return f"The last day ({last}) comes before the first ({first}). {PAUSE_USAGE}"
    if (last - first).days + 1 > PAUSE_MAX_DAYS:
        return f"A pause lasts at most {PAUSE_MAX_DAYS} days; that is {(last - first).days + 1}."
    return first, last


def polite(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A handler never takes the bot down: unexpected errors are logged and apologised for."""

    @functools.wraps(handler)
    async def wrapper(self: "BotHandlers", event: Any) -> None:
        try:
            await handler(self, event)
        except Exception:
            logger.exception(
                "telegram handler %s failed for sender %s",
                handler.__name__,
                getattr(event, "sender_id", None),
            )
            await event.respond("Sorry, something went wrong on our side. Please try again.")

    return wrapper


async def _sender_of(event: Any) -> TelegramSender:
    sender = await event.get_sender()
    return TelegramSender(
        telegram_id=event.sender_id,
        access_hash=getattr(sender, "access_hash", None) or 0,
        username=getattr(sender, "username", None) or "",
    )


@database_sync_to_async
def _today_for(telegram_id: int) -> list[HabitInstance] | None:
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return None
    return list(instance_list_today(user=profile.user))


@database_sync_to_async
def _complete_for(telegram_id: int, instance_id: int) -> HabitInstance | None:
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return None
    return instance_complete(
        instance_id=instance_id,
        user_id=profile.user_id,
        at=timezone.now(),
        source=Source.TELEGRAM,
    )


@database_sync_to_async
def _skip_for(
    telegram_id: int, instance_id: int, message_id: int
) -> tuple[HabitInstance, list[HabitInstance] | None] | None:
    """The instance skipped (reason `other`), and today's list again when the pressed message
    was a `/today` one (a reminder is edited by the outbox, as for a skip from the web)."""
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return None
    instance = instance_skip(
        instance_id=instance_id, user_id=profile.user_id, reason=SkipReason.OTHER
    )
    if is_reminder(instance_id=instance_id, telegram_id=telegram_id, message_id=message_id):
        return instance, None
    return instance, list(instance_list_today(user=profile.user))


@database_sync_to_async
def _note_for(telegram_id: int, replied_to: int, text: str) -> str:
    """What to answer a reply: the note kept on the instance the replied-to message is about
    ("Noted on <action>."), or why not. Only the chat's bound user's instances: the message
    id is looked up among what the bot sent this chat about them."""
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return NOT_LINKED
    instance_id = instance_replied_to(
        telegram_id=telegram_id, message_id=replied_to, user_id=profile.user_id
    )
    if instance_id is None:
        return NOTE_HOW
    text = text.strip()
    if not text:  # a sticker or a photo without a caption: not a way to clear the note
        return NOTE_EMPTY
    if len(text) > NOTE_MAX_LENGTH:
        return NOTE_TOO_LONG.format(limit=NOTE_MAX_LENGTH, length=len(text))
    try:
        instance = instance_note(instance_id=instance_id, user_id=profile.user_id, note=text)
    except NotFound:  # deleted meanwhile
        return NOTE_HOW
    except InvalidInput as refusal:
        return f"I could not keep that note: {refusal.problems[0].msg}."
    return f"Noted on {instance.habit.action}."


@database_sync_to_async
def _snooze_for(telegram_id: int, instance_id: int, minutes: int) -> tuple[str, str] | None:
    """The habit's action and the local time of the reminder owed; None when not linked."""
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return None
    snoozed = services.instance_snooze(
        instance_id=instance_id, user_id=profile.user_id, minutes=minutes
    )
    return snoozed.instance.habit.action, snoozed.local_time


@database_sync_to_async
def _pause_for(telegram_id: int, first: date, last: date) -> bool:
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return False
    pause_create(user=profile.user, start_date=first, end_date=last, reason=SkipReason.REST)
    return True


@database_sync_to_async
def _resume_for(telegram_id: int) -> int | None:
    """How many pauses of every habit covering today were ended (overlapping ones all end:
    one left would keep the day skipped); None when the chat is not linked."""
    profile = services.profile_for(telegram_id=telegram_id)
    if profile is None:
        return None
    ended = 0
    while ended < 100 and (pause := pause_under_way(user=profile.user)) is not None:
        pause_end(pause_id=pause.pk, user=profile.user)
        ended += 1
    return ended


class BotHandlers:
    def __init__(self, client: TelegramClient) -> None:
        self.client = client

    def register(self) -> None:
        private = {"incoming": True, "func": lambda e: e.is_private}
        on = self.client.add_event_handler
        on(self.start, events.NewMessage(pattern=rf"^/start{COMMAND}(?:\s+(\S+))?\s*$", **private))
        on(self.bind, events.NewMessage(pattern=rf"^/bind{COMMAND}(?:\s+(\S+))?\s*$", **private))
        on(self.help, events.NewMessage(pattern=rf"^/help{COMMAND}\s*$", **private))
        on(self.today, events.NewMessage(pattern=rf"^/today{COMMAND}\s*$", **private))
        on(self.pause, events.NewMessage(pattern=rf"^/pause{COMMAND}(?:\s+(.+?))?\s*$", **private))
        on(self.resume, events.NewMessage(pattern=rf"^/resume{COMMAND}\s*$", **private))
        on(self.unbind, events.NewMessage(pattern=rf"^/unbind{COMMAND}\s*$", **private))
        known = "|".join(COMMANDS)
        # Anything but a known command: a reply to a message becomes a note, the rest is
        # answered with what the bot understands.
        anything_else = rf"^(?!/({known})\b)"
        on(self.note, events.NewMessage(
            pattern=anything_else, incoming=True,
            func=lambda e: e.is_private and e.message.reply_to_msg_id is not None,
        ))  # fmt: skip
        on(self.other, events.NewMessage(
            pattern=anything_else, incoming=True,
            func=lambda e: e.is_private and e.message.reply_to_msg_id is None,
        ))  # fmt: skip
        on(self.button, events.CallbackQuery())

    async def _redeem(self, event: Any, code: str) -> None:
        outcome = await database_sync_to_async(services.bind_redeem)(
            code=code, sender=await _sender_of(event)
        )
        await event.respond(BIND_ANSWERS[outcome])

    @polite
    async def start(self, event: Any) -> None:
        code = event.pattern_match.group(1)
        if code:
            await self._redeem(event, code)
        else:
            await event.respond(HELP)

    @polite
    async def bind(self, event: Any) -> None:
        code = event.pattern_match.group(1)
        if not code:
            await event.respond("Send the code from the web app like this: /bind CODE")
            return
        await self._redeem(event, code)

    @polite
    async def help(self, event: Any) -> None:
        await event.respond(HELP)

    @polite
    async def today(self, event: Any) -> None:
        instances = await _today_for(event.sender_id)
        if instances is None:
            await event.respond(NOT_LINKED)
            return
        text, buttons = _today_view(instances)
        await event.respond(text, buttons=buttons)

    @polite
    async def pause(self, event: Any) -> None:
        dates = _pause_dates(event.pattern_match.group(1))
        if isinstance(dates, str):
            await event.respond(dates)
            return
        first, last = dates
        try:
            linked = await _pause_for(event.sender_id, first, last)
        except InvalidInput as refusal:
            await event.respond(f"I could not pause: {refusal.message}")
            return
        if not linked:
            await event.respond(NOT_LINKED)
            return
        days = (last - first).days + 1
        await event.respond(
            f"Paused every habit from {first} to {last} ({days} day{'s' if days > 1 else ''}): "
            "no reminders, and those days are skipped. /resume ends it early."
        )

    @polite
    async def resume(self, event: Any) -> None:
        ended = await _resume_for(event.sender_id)
        if ended is None:
            await event.respond(NOT_LINKED)
        elif ended == 0:
            await event.respond("Nothing is paused today.")
        else:
            await event.respond("Resumed: your habits are back from today. Try /today.")

    @polite
    async def unbind(self, event: Any) -> None:
        profile = await database_sync_to_async(services.profile_for)(telegram_id=event.sender_id)
        if profile is None:
            await event.respond(NOT_LINKED)
            return
        await database_sync_to_async(services.telegram_unbind)(user=profile.user)
        await event.respond("Unlinked. You will get no more reminders here.")

    @polite
    async def other(self, event: Any) -> None:
        await event.respond(OTHER)

    @polite
    async def note(self, event: Any) -> None:
        answer = await _note_for(
            event.sender_id, event.message.reply_to_msg_id, event.raw_text or ""
        )
        await event.respond(answer)

    @polite
    async def button(self, event: Any) -> None:
        data = event.data or b""
        if (snooze := SNOOZE_DATA.match(data)) is not None:
            press = functools.partial(self.snooze, minutes=int(snooze.group(2)))
            instance_id = int(snooze.group(1))
        elif (match := BUTTON_DATA.match(data)) is not None:
            press = self.done if match.group(1) == b"done" else self.skip
            instance_id = int(match.group(2))
        else:
            await event.answer("Sorry, I don't know that button.")
            return
        try:
            await press(event, instance_id)
        except NotFound as refusal:  # not theirs reads the same as gone
            await event.answer(refusal.message)
        except Conflict as refusal:  # the reason matters to them: an alert they must dismiss
            await event.answer(refusal.message, alert=True)
        except InvalidInput as refusal:  # a snooze past the fix deadline
            await event.answer(f"I could not snooze it: {refusal.problems[0].msg}.", alert=True)

    async def done(self, event: Any, instance_id: int) -> None:
        instance = await _complete_for(event.sender_id, instance_id)
        if instance is None:
            await event.answer(NOT_LINKED, alert=True)
            return
        await event.answer(f"Done: {instance.habit.action} ✅")

    async def snooze(self, event: Any, instance_id: int, minutes: int) -> None:
        snoozed = await _snooze_for(event.sender_id, instance_id, minutes)
        if snoozed is None:
            await event.answer(NOT_LINKED, alert=True)
            return
        action, at = snoozed
        await event.answer(f"Snoozed: I will remind you of {action} at {at} ⏰"[:200])

    async def skip(self, event: Any, instance_id: int) -> None:
        skipped = await _skip_for(event.sender_id, instance_id, event.message_id)
        if skipped is None:
            await event.answer(NOT_LINKED, alert=True)
            return
        instance, today = skipped
        await event.answer(f"Skipped: {instance.habit.action} ⏭")
        if today is not None:  # the pressed `/today` list, as it is now
            text, buttons = _today_view(today)
            await event.edit(text, buttons=buttons)
