"""Binding over the API and in the chat (RELIABILITY B1-B4)."""

import asyncio
from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.test import override_settings
from django.utils import timezone

from telegram.models import BindCode, TelegramProfile
from telegram.services import bind_code_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

issue = database_sync_to_async(lambda user: bind_code_issue(user=user))


def _bound(user) -> TelegramProfile | None:
    return TelegramProfile.objects.filter(user=user).first()


bound = database_sync_to_async(_bound)


def test_the_api_gives_a_code_and_a_deep_link_and_stores_only_a_hash(authed, user):
    response = authed.post("/api/telegram/bind-code/")

    assert response.status_code == 201
    body = response.json()
    assert len(body["code"]) >= 8
    assert body["link"].endswith(f"?start={body['code']}")
    assert body["link"].startswith("https://t.me/")
    stored = BindCode.objects.get(user=user)
    assert body["code"] not in stored.code_hash
    assert authed.get("/api/telegram/").json() == {
        "bound": False,
        "username": None,
        "bound_at": None,
    }


@override_settings(TELEGRAM_CODES_PER_WINDOW=3)
def test_asking_for_codes_too_often_is_429(authed):
    codes = [authed.post("/api/telegram/bind-code/").status_code for _ in range(4)]

    assert codes == [201, 201, 201, 429]


async def test_a_valid_code_binds_once_and_the_same_code_again_is_refused(
    user, chat_as, fake_telegram
):
    code = (await issue(user)).code

    await chat_as(1001, "ann").say(f"/start {code}")
    await chat_as(1002, "bob").say(f"/bind {code}")

    profile = await bound(user)
    assert (profile.telegram_id, profile.username) == (1001, "ann")
    assert "Linked" in fake_telegram.texts()[0]
    assert "not valid" in fake_telegram.texts()[1]


async def test_the_code_is_read_in_any_case(user, chat_as):
    code = (await issue(user)).code

    await chat_as(1001).say(f"/bind {code.lower()}")

    assert await bound(user) is not None


async def test_an_expired_code_is_refused(user, chat_as, fake_telegram):
    code = (await issue(user)).code

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        await chat_as(1001).say(f"/bind {code}")

    assert await bound(user) is None
    assert "not valid" in fake_telegram.texts()[0]


async def test_an_old_code_stops_working_when_a_new_one_is_issued(user, chat_as, fake_telegram):
    old = (await issue(user)).code
    new = (await issue(user)).code

    await chat_as(1001).say(f"/bind {old}")
    assert await bound(user) is None
    await chat_as(1001).say(f"/bind {new}")
    assert await bound(user) is not None


@override_settings(TELEGRAM_BIND_ATTEMPTS=3)
async def test_wrong_codes_past_the_limit_lock_out_even_the_right_code(
    user, chat_as, fake_telegram
):
    code = (await issue(user)).code
    chat = chat_as(1001)

    for guess in ("AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"):
        await chat.say(f"/bind {guess}")
    await chat.say(f"/bind {code}")

    assert await bound(user) is None
    assert "Too many" in fake_telegram.texts()[-1]


async def test_a_telegram_account_bound_to_another_user_is_refused(chat_as, fake_telegram):
    first, second = (
        await database_sync_to_async(UserFactory)(),
        await database_sync_to_async(UserFactory)(),
    )
    await chat_as(1001).say(f"/bind {(await issue(first)).code}")

    await chat_as(1001).say(f"/bind {(await issue(second)).code}")

    assert (await bound(first)).telegram_id == 1001
    assert await bound(second) is None
    assert "already linked" in fake_telegram.texts()[-1]


async def test_unbind_in_the_chat_unlinks(user, chat_as, fake_telegram):
    chat = chat_as(1001)
    await chat.say(f"/bind {(await issue(user)).code}")

    await chat.say("/unbind")

    assert await bound(user) is None
    assert "Unlinked" in fake_telegram.texts()[-1]


def test_delete_over_the_api_unbinds_and_tells_the_sockets(authed, user, events_of):
    TelegramProfile.objects.create(user=user, telegram_id=1001, username="ann")
    probe = events_of(user)

    assert authed.delete("/api/telegram/").status_code == 204

    assert not TelegramProfile.objects.filter(user=user).exists()
    assert probe.types() == ["telegram.unbound"]


async def test_binding_tells_the_sockets(user, chat_as, events_of):
    probe = await asyncio.to_thread(events_of, user)  # the probe runs its own event loop

    await chat_as(1001, "ann").say(f"/bind {(await issue(user)).code}")

    assert await asyncio.to_thread(probe.drain) == [
        {"type": "telegram.bound", "data": {"username": "ann"}}
    ]


async def test_start_without_a_code_explains_and_other_text_gets_help(chat_as, fake_telegram):
    chat = chat_as(1001)

    await chat.say("/start")
    await chat.say("hello?")
    await chat.say("/bind")

    first, second, third = fake_telegram.texts()
    assert "/bind CODE" in first
    assert "/today" in second
    assert "/bind CODE" in third
