"""Offline Telegram: a real Telethon client fed raw TL updates; only the network send is fake.

Recipe (RELIABILITY.md): an unconnected `TelegramClient(None, api_id, api_hash)`, our own
user set in its entity cache, the production handlers registered, raw updates dispatched
through `_dispatch_update`, and `_sender.send` replaced by a strict fake that records every
request, answers the few the bot makes and refuses anything else. Telethon's own flood-wait
handling still runs. These are private names of Telethon 1.45 (pinned in pyproject.toml);
`test_canary.py` breaks loudly if they move.
"""

import asyncio
import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telethon import TelegramClient, errors, functions, types

from accounts.models import User
from instances.models import HabitInstance, Status
from telegram.handlers import BotHandlers
from telegram.models import TelegramProfile
from tests.factories import HabitFactory, UserFactory, make_instance

BOT_ID = 7_000_000_001
API_ID, API_HASH = 123456, "0123456789abcdef0123456789abcdef"
_ids = itertools.count(1)


class FakeTelegram:
    """Telegram's side of the wire: strict, recording, with a switch for FloodWait."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.refused: list[Any] = []  # requests answered with an RPC error
        self.flood_waits: list[int] = []  # seconds, consumed by the next sends
        self.next_message_id = 500

    def send(self, request: Any, ordered: bool = False) -> asyncio.Future:
        self.requests.append(request)
        future = asyncio.get_running_loop().create_future()
        try:
            future.set_result(self._answer(request))
        except errors.RPCError as error:
            self.refused.append(request)
            future.set_exception(error)
        return future

    def _answer(self, request: Any) -> Any:
        now = datetime.now(UTC)
        if isinstance(request, functions.messages.SendMessageRequest):
            if self.flood_waits:
                raise errors.FloodWaitError(request=request, capture=self.flood_waits.pop(0))
            self.next_message_id += 1
            return types.UpdateShortSentMessage(
                out=True, id=self.next_message_id, pts=1, pts_count=1, date=now
            )
        if isinstance(request, functions.messages.EditMessageRequest):
            return types.Updates(updates=[], users=[], chats=[], date=now, seq=0)
        if isinstance(request, functions.messages.SetBotCallbackAnswerRequest):
            return True
        raise AssertionError(f"the bot made an unexpected request: {type(request).__name__}")

    # --- what a test looks at --------------------------------------------------------------

    def sent(self) -> list[Any]:
        """Messages Telegram accepted (a FloodWait-refused attempt is not one)."""
        return [
            r for r in self.requests
            if isinstance(r, functions.messages.SendMessageRequest) and r not in self.refused
        ]  # fmt: skip

    def texts(self) -> list[str]:
        return [r.message for r in self.sent()]

    def edits(self) -> list[Any]:
        return [r for r in self.requests if isinstance(r, functions.messages.EditMessageRequest)]

    def answers(self) -> list[Any]:
        return [
            r
            for r in self.requests
            if isinstance(r, functions.messages.SetBotCallbackAnswerRequest)
        ]

    @staticmethod
    def buttons(request: Any) -> list[tuple[str, bytes]]:
        markup = request.reply_markup
        if markup is None:
            return []
        # Telethon 1.45's layer wraps a callback button's data in `type`; older ones did not.
        return [
            (b.text, getattr(b, "data", None) or b.type.data)
            for row in markup.rows
            for b in row.buttons
        ]


ANN = 1001


def bound_user_with_instance(
    telegram_id: int = ANN,
    action: str = "stretch",
    *,
    status: str = Status.PENDING,
    due_ago: timedelta = timedelta(seconds=5),
) -> tuple[User, HabitInstance]:
    """A user whose chat is bound to the bot, with an instance of today due `due_ago` (for the
    async tests: `database_sync_to_async(bound_user_with_instance)`)."""
    user = UserFactory()
    TelegramProfile.objects.create(
        user=user, telegram_id=telegram_id, access_hash=3, username="ann"
    )
    now = datetime.now(UTC)
    habit = HabitFactory(user=user, start_date=now.date(), action=action)
    return user, make_instance(habit, now.date(), now - due_ago, status=status)


def telegram_user(user_id: int, username: str = "ann") -> types.User:
    return types.User(
        id=user_id, access_hash=user_id * 7 + 3, first_name="Ann", username=username, bot=False
    )


class Chat:
    """One Telegram user talking to the bot through real Telethon update objects."""

    def __init__(self, client: TelegramClient, user: types.User) -> None:
        self.client, self.user = client, user

    async def _dispatch(self, update: Any) -> None:
        update._entities = {self.user.id: self.user}
        await self.client._dispatch_update(update)

    async def say(self, text: str, *, reply_to: int | None = None) -> None:
        """A message from the user; `reply_to`: the id of the chat message it answers."""
        message = types.Message(
            id=next(_ids),
            peer_id=types.PeerUser(self.user.id),
            date=datetime.now(UTC),
            message=text,
            out=False,
            reply_to=None if reply_to is None else types.MessageReplyHeader(
                reply_to_msg_id=reply_to
            ),
        )  # fmt: skip
        await self._dispatch(types.UpdateNewMessage(message=message, pts=1, pts_count=1))

    async def press(self, data: bytes, msg_id: int = 1) -> None:
        await self._dispatch(types.UpdateBotCallbackQuery(
            query_id=next(_ids), user_id=self.user.id, peer=types.PeerUser(self.user.id),
            msg_id=msg_id, chat_instance=1, data=data,
        ))  # fmt: skip


@pytest.fixture
def fake_telegram() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def bot(fake_telegram: FakeTelegram) -> TelegramClient:
    client = TelegramClient(None, API_ID, API_HASH)
    client._mb_entity_cache.set_self_user(BOT_ID, True, 1)
    client._sender.send = fake_telegram.send
    BotHandlers(client).register()
    return client


@pytest.fixture
def chat_as(bot: TelegramClient):
    return lambda telegram_id, username="ann": Chat(bot, telegram_user(telegram_id, username))


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Telethon logs and swallows handler exceptions: an ERROR record is a failed test."""
    caplog.set_level(logging.INFO)
    yield
    errors_logged = [r for r in caplog.records if r.levelno >= logging.ERROR
                     and r.name.startswith(("telethon", "telegram"))]  # fmt: skip
    assert not errors_logged, [r.getMessage() for r in errors_logged]
