"""A known trap (RELIABILITY, "Known traps"): redis-py 8's async pool refused connections
past 100 instead of waiting, so a burst of socket connects failed with HTTP 500. A burst of
1,000 against the real server: every one is let in and greeted; then each hears its event."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from accounts.models import User
from tests.factories import UserFactory
from tests.system.conftest import System, access_for
from tests.system.test_redis_outage import habit

pytestmark = pytest.mark.slow

SOCKETS = 1_000
USERS = 10


async def _open_all(system: System, tokens: list[str]) -> list:
    async def open_one(token: str):
        socket = await connect(
            f"ws://127.0.0.1:{system.port}/ws/",
            subprotocols=["bearer", token],
            additional_headers={"Origin": system.base},
            open_timeout=60,
            max_queue=None,
        )
        hello = json.loads(await asyncio.wait_for(socket.recv(), 60))
        assert hello["type"] == "hello"
        assert json.loads(await asyncio.wait_for(socket.recv(), 60))["type"] == "today.snapshot"
        return socket

    return await asyncio.gather(*(open_one(t) for t in tokens))


async def _hears_habit_created(socket) -> bool:
    while json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] != "habit.created":
        pass
    return True


def test_a_burst_of_a_thousand_socket_connects_all_get_in_and_all_hear(system: System):
    # A hundred sockets a user, past the default cap of twenty: the burst is what is tested.
    system.env["WS_MAX_SOCKETS_PER_USER"] = str(SOCKETS // USERS)
    system.start_web()
    users: list[User] = UserFactory.create_batch(USERS)
    tokens = [access_for(users[n % USERS]) for n in range(SOCKETS)]
    # Signed here: the database is not for the event loop's threads.
    writers = [access_for(user) for user in users]

    async def scenario() -> list[bool]:
        sockets = await _open_all(system, tokens)
        try:
            for token in writers:
                created = await asyncio.to_thread(
                    system.call, "POST", "/api/habits/", token=token, json=habit("burst")
                )
                assert created.status_code == 201
            return await asyncio.gather(*(_hears_habit_created(s) for s in sockets))
        finally:
            await asyncio.gather(*(s.close() for s in sockets))

    heard = asyncio.run(scenario())

    assert heard == [True] * SOCKETS
