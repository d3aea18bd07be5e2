"""The bot's Telethon handlers: parse, call the same services as the web, answer politely.

Identity is the sender id Telegram gives; every "Done" press re-checks that the instance
belongs to the user bound to that sender.
"""

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone
from telethon import Button, TelegramClient, events

from core.errors import Conflict, NotFound
from instances.models import OPEN_STATUSES, HabitInstance, Source
from instances.selectors import instance_list_today
from instances.services import instance_complete
from telegram import services
from telegram.services import BindOutcome, TelegramSender

logger = logging.getLogger(__name__)

DONE_PREFIX = b"done:"
DONE_DATA = re.compile(rb"^done:(\d{1,18})$")
COMMAND = r"(?:@\w+)?"

HELP = (
    "I remind you of your habits and let you tick them off.\n"
    "Link your account: in the web app open Profile → Connect Telegram, then send me "
    "/bind CODE (or just tap the link there).\n"
    "Then: /today lists today's habits, /unbind unlinks this chat."
)
BIND_ANSWERS = {
    BindOutcome.BOUND: "Linked! You will get reminders here. Try /today.",
    BindOutcome.INVALID: "That code is not valid: it may be mistyped, used, replaced or expired. "
    "Ask the web app for a new one.",
    BindOutcome.THROTTLED: "Too many wrong codes. Please wait a few minutes and try again.",
    BindOutcome.TAKEN: "This Telegram account is already linked to another user. "
    "Unlink it there first (/unbind).",
}
NOT_LINKED = "This chat is not linked to an account yet. Send /bind CODE (see /start)."


def done_button(instance_id: int, label: str = "Done ✅") -> Button:
    return Button.inline(label[:60], data=DONE_PREFIX + str(instance_id).encode())


def _today_line(instance: HabitInstance) -> str:
    mark = "✅" if instance.status in ("completed", "completed_late") else "•"
    return f"{mark} {instance.habit.action} ({instance.status.replace('_', ' ')})"


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


class BotHandlers:
    def __init__(self, client: TelegramClient) -> None:
        self.client = client

    def register(self) -> None:
        private = {"incoming": True, "func": lambda e: e.is_private}
        on = self.client.add_event_handler
        on(self.start, events.NewMessage(pattern=rf"^/start{COMMAND}(?:\s+(\S+))?\s*$", **private))
        on(self.bind, events.NewMessage(pattern=rf"^/bind{COMMAND}(?:\s+(\S+))?\s*$", **private))
        on(self.today, events.NewMessage(pattern=rf"^/today{COMMAND}\s*$", **private))
        on(self.unbind, events.NewMessage(pattern=rf"^/unbind{COMMAND}\s*$", **private))
        on(self.other, events.NewMessage(pattern=r"^(?!/(start|bind|today|unbind)\b)", **private))
        on(self.done, events.CallbackQuery())

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
    async def today(self, event: Any) -> None:
        instances = await _today_for(event.sender_id)
        if instances is None:
            await event.respond(NOT_LINKED)
            return
        if not instances:
            await event.respond("Nothing planned for today.")
            return
        lines = [_today_line(i) for i in instances]
        buttons = [[done_button(i.pk, f"Done: {i.habit.action}")] for i in instances
                   if i.status in OPEN_STATUSES]  # fmt: skip
        await event.respond("Today:\n" + "\n".join(lines), buttons=buttons or None)

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
        await event.respond("I understand /today, /bind CODE, /unbind and /start.")

    @polite
    async def done(self, event: Any) -> None:
        match = DONE_DATA.match(event.data or b"")
        if match is None:
            await event.answer("Sorry, I don't know that button.")
            return
        try:
            instance = await _complete_for(event.sender_id, int(match.group(1)))
        except NotFound as refusal:  # not theirs reads the same as gone
            await event.answer(refusal.message)
            return
        except Conflict as refusal:  # the reason matters to them: an alert they must dismiss
            await event.answer(refusal.message, alert=True)
            return
        if instance is None:
            await event.answer(NOT_LINKED, alert=True)
            return
        await event.answer(f"Done: {instance.habit.action} ✅")
