"""Breaks loudly if the Telethon internals the offline harness relies on move."""

import pytest
import telethon
from telethon import TelegramClient

from tests.telegram.conftest import API_HASH, API_ID

pytestmark = pytest.mark.django_db(transaction=True)


def test_telethon_is_the_pinned_minor_version():
    assert telethon.__version__.startswith("1.45."), telethon.__version__


def test_the_private_names_the_harness_uses_still_exist():
    client = TelegramClient(None, API_ID, API_HASH)

    assert callable(client._dispatch_update)
    assert callable(client._mb_entity_cache.set_self_user)
    assert callable(client._sender.send)


async def test_a_raw_start_update_reaches_a_handler_and_the_fake_network(chat_as, fake_telegram):
    await chat_as(42).say("/start")

    assert len(fake_telegram.sent()) == 1
    assert "Link your account" in fake_telegram.texts()[0]
