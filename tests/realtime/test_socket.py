"""The live socket against the real ASGI app and Redis channel layer (RELIABILITY W1-W7)."""

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.test import override_settings

from accounts.services import user_deactivate, user_logout_all
from core.presence import presence_key
from core.redis import get_redis
from instances.models import Source
from instances.services import instance_complete
from realtime.broadcast import broadcast
from realtime.groups import user_group
from tests.factories import HabitFactory, UserFactory, make_instance
from tests.realtime.conftest import Socket, access_token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _connected(user) -> Socket:
    socket = Socket(await sync_to_async(access_token_for)(user))
    connected, subprotocol = await socket.open()
    assert (connected, subprotocol) == (True, "bearer")
    hello = await socket.frame()
    assert hello == {"type": "hello", "data": {"user_id": user.pk}}
    snapshot = await socket.frame()
    assert snapshot["type"] == "today.snapshot"
    socket.snapshot = snapshot["data"]
    return socket


async def test_a_good_token_gets_hello_then_todays_snapshot(user):
    today = datetime.now(UTC)
    habit = await sync_to_async(HabitFactory)(user=user, start_date=today.date(), action="walk")
    await sync_to_async(make_instance)(habit, today.date(), today)

    socket = await _connected(user)

    assert [i["action"] for i in socket.snapshot] == ["walk"]
    await socket.close()


async def test_ping_answers_pong(user):
    socket = await _connected(user)

    await socket.send({"type": "ping"})

    assert await socket.frame() == {"type": "pong", "data": {}}
    await socket.close()


@pytest.mark.parametrize("token", [None, "garbage", "a.b.c"])
async def test_no_or_bad_token_is_accepted_then_closed_4401(token):
    socket = Socket(token)

    connected, _ = await socket.open()

    assert connected
    assert await socket.closed_with() == 4401


async def test_a_foreign_origin_is_rejected():
    socket = Socket("whatever", origin=(b"origin", b"https://evil.example"))

    connected, _ = await socket.open()

    assert not connected


async def test_an_expired_or_edited_token_closes_4401_and_never_joins(user):
    expired = jwt.encode(
        {"sub": str(user.pk), "iat": 1, "exp": 2, "jti": "x", "type": "access", "ver": 0},
        settings.JWT_SIGNING_KEY,
        algorithm="HS256",
    )
    good = await sync_to_async(access_token_for)(user)
    header, payload, signature = good.split(".")
    edited = f"{header}.{payload[:-2]}AA.{signature}"

    for token in (expired, edited):
        socket = Socket(token)
        await socket.open()
        assert await socket.closed_with() == 4401
    assert await _group_size(user) == 0


@override_settings(JWT_ACCESS_TTL_SECONDS=2, JWT_LEEWAY_SECONDS=0)
async def test_the_socket_closes_4401_shortly_after_the_token_expires(user):
    socket = await _connected(user)

    assert await socket.closed_with(timeout=5) == 4401


async def test_an_event_for_b_reaches_b_exactly_once_and_never_a():
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    a, b = await _connected(alice), await _connected(bob)

    await sync_to_async(broadcast)(user_id=bob.pk, type="habit.updated", data={"id": 1})

    assert await b.frames_until_quiet() == [{"type": "habit.updated", "data": {"id": 1}}]
    assert await a.frames_until_quiet() == []
    await a.close()
    await b.close()


async def test_two_sockets_of_one_user_both_hear(user):
    first, second = await _connected(user), await _connected(user)

    await sync_to_async(broadcast)(user_id=user.pk, type="habit.deleted", data={"id": 9})

    assert len(await first.frames_until_quiet()) == len(await second.frames_until_quiet()) == 1
    await first.close()
    await second.close()


async def _group_size(user) -> int:
    layer = get_channel_layer()
    key = layer._group_key(user_group(user.pk))
    return await sync_to_async(get_redis().zcard)(key)


def _connections_to_test_db() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


async def test_a_hundred_connect_disconnect_cycles_leave_nothing_behind(user):
    token = await sync_to_async(access_token_for)(user)
    before = await sync_to_async(_connections_to_test_db)()

    for _ in range(100):
        socket = Socket(token)
        await socket.open()
        await socket.frames_until_quiet(quiet=0.01)
        await socket.close()

    assert await _group_size(user) == 0
    assert await sync_to_async(get_redis().hget)(presence_key(), str(user.pk)) is None
    assert await sync_to_async(_connections_to_test_db)() <= before + 1


async def test_junk_frames_get_an_error_frame_and_the_socket_lives_on(user):
    socket = await _connected(user)

    for junk in ("not json", "[1,2]", '{"type": "delete_everything"}', "{}"):
        await socket.send(junk)
        assert (await socket.frame())["type"] == "error"
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"
    await socket.close()


async def test_a_one_megabyte_frame_closes_the_socket_and_the_server_stays_healthy(user):
    socket = await _connected(user)

    await socket.send("x" * 1_000_000)

    assert await socket.closed_with() == 1009
    again = await _connected(user)
    await again.close()


async def test_a_flood_of_frames_closes_the_socket(user):
    socket = await _connected(user)

    for _ in range(settings.WS_MAX_FRAMES_PER_SECOND + 5):
        await socket.send({"type": "ping"})

    frames = []
    while True:
        output = await socket.communicator.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            assert output["code"] == 4429
            break
        frames.append(output)
    assert len(frames) <= settings.WS_MAX_FRAMES_PER_SECOND


async def test_logout_everywhere_closes_an_open_socket(user):
    socket = await _connected(user)

    await sync_to_async(user_logout_all)(user=user)

    assert await socket.closed_with() == 4401


async def test_deactivation_closes_an_open_socket(user):
    socket = await _connected(user)

    await sync_to_async(user_deactivate)(user=user)

    assert await socket.closed_with() == 4401


async def test_a_completion_sends_instance_updated_then_a_worker_sends_fresh_stats(user, worker):
    now = datetime.now(UTC)
    habit = await sync_to_async(HabitFactory)(user=user, start_date=now.date())
    instance = await sync_to_async(make_instance)(habit, now.date(), now - timedelta(minutes=1))
    socket = await _connected(user)

    await sync_to_async(instance_complete)(
        instance_id=instance.pk, user_id=instance.user_id, at=now, source=Source.WEB
    )

    frames = [await socket.frame(), await socket.frame(timeout=15)]  # the worker's frame
    frames += await socket.frames_until_quiet()
    assert [f["type"] for f in frames] == ["instance.updated", "stats.updated"]
    assert frames[0]["data"]["status"] == "completed"
    assert frames[1]["data"]["habit_id"] == habit.pk
    assert frames[1]["data"]["stats"]["done"] == 1
    await socket.close()


async def test_a_burst_of_500_events_arrives_whole(user):
    socket = await _connected(user)

    for n in range(500):
        await sync_to_async(broadcast)(user_id=user.pk, type="habit.updated", data={"n": n})

    frames = await socket.frames_until_quiet(quiet=1.0)
    assert [f["data"]["n"] for f in frames] == list(range(500))
    await socket.close()


# redis-py's async client times out an idle read after 5 s by default, which dropped every
# idle socket (1011) within seconds; past that, and past two of the socket's own layer checks,
# an idle socket that is still open stays open.
IDLE_SECONDS = 12


async def test_an_idle_socket_stays_open_past_the_redis_read_timeout(user):
    socket = await _connected(user)

    await asyncio.sleep(IDLE_SECONDS)

    await socket.send({"type": "ping"})
    assert await socket.frame() == {"type": "pong", "data": {}}
    await sync_to_async(broadcast)(user_id=user.pk, type="habit.deleted", data={"id": 1})
    assert await socket.frames_until_quiet() == [{"type": "habit.deleted", "data": {"id": 1}}]
    await socket.close()


async def test_a_change_made_by_a_real_celery_worker_reaches_the_socket(user, worker):
    from instances.tasks import sweep_instances

    now = datetime.now(UTC)
    habit = await sync_to_async(HabitFactory)(user=user, start_date=now.date())
    await sync_to_async(make_instance)(habit, now.date(), now - timedelta(seconds=1))
    socket = await _connected(user)

    await sync_to_async(sweep_instances.delay)()

    frame = await socket.frame(timeout=30)
    assert frame["type"] == "instance.updated"
    assert frame["data"]["status"] == "pending"
    assert (await socket.frame(timeout=5))["type"] == "stats.updated"
    await socket.close()
