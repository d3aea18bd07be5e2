"""The channel layer sharded over two Redis servers (CHANNEL_REDIS_URLS), under the running
system; REDIS_URL (cache, presence, token state, the broker) is a third server, left alone.

channels_redis maps each name to a shard with its own consistent hash: a user's group to the
shard of `user.<id>`, a web process's inbox to the shard of its `specific.<prefix>!`. A socket
depends on both, so losing one shard closes exactly the sockets with either on it
(docs/DECISIONS.md, "A sharded channel layer"); the test computes that set with the layer's
own hash, not a copy of it.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from accounts.models import User
from config.channel_layer import NamespacedRedisChannelLayer
from config.serving import web_command
from instances.models import HabitInstance, Status
from realtime.groups import user_group
from tests.factories import UserFactory
from tests.system.conftest import Live, System
from tests.system.harness import PrivateRedis
from tests.system.test_redis_outage import CLOSE_TRY_AGAIN, habit, minutes_ago, reconnect

pytestmark = pytest.mark.slow

USERS_PER_SHARD = 3
# A socket whose process lost its inbox closes once redis-py's retries of the read give up;
# the sockets of one process fail one after another.
CLOSE_WITHIN_SECONDS = 40


@pytest.fixture
def shards(tmp_path: Path) -> Iterator[list[PrivateRedis]]:
    servers = []
    for n in range(2):
        workdir = tmp_path / f"shard{n}"
        workdir.mkdir()
        servers.append(PrivateRedis(workdir))
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def start_sharded(system: System, shards: list[PrivateRedis]) -> NamespacedRedisChannelLayer:
    """Web and worker on the shards; the layer's ring over them, to ask where a name goes."""
    system.env["CHANNEL_REDIS_URLS"] = ",".join(s.url for s in shards)
    system.start_web()
    system.start_worker()
    return NamespacedRedisChannelLayer(hosts=[{"address": s.url} for s in shards])


def users_on_every_shard(ring: NamespacedRedisChannelLayer, each: int) -> dict[User, int]:
    """`each` users whose group the layer puts on each shard: their shard, by user."""
    hour = datetime.now(UTC).hour
    zone = "UTC" if 1 <= hour <= 22 else "Asia/Tokyo"  # "five minutes ago" is today
    found: dict[User, int] = {}
    counts = [0] * ring.ring_size
    while min(counts) < each:
        user = UserFactory(timezone=zone)
        shard = ring.consistent_hash(user_group(user.pk))
        if counts[shard] < each:
            counts[shard] += 1
            found[user] = shard
    return found


def inbox_shard(ring: NamespacedRedisChannelLayer, shards: list[PrivateRedis], user: User) -> int:
    """The shard of the inbox of the web process serving the user's one socket, read from
    the group's members (channel names) on the group's shard."""
    group = user_group(user.pk)
    group_key = f"{ring.prefix}:group:{group}"  # channels_redis's `_group_key`
    members = shards[ring.consistent_hash(group)].client().zrange(group_key, 0, -1)
    assert len(members) == 1, (group_key, members)
    return ring.consistent_hash(ring.non_local_name(members[0].decode()))


def pending_instance(system: System, user: User, action: str) -> int:
    """A habit due five minutes ago: its instance of today, born pending."""
    created = system.call("POST", "/api/habits/", user, json=habit(action, minutes_ago(user, 5)))
    assert created.status_code == 201, created.text
    today = system.call("GET", "/api/instances/today/", user).json()
    [instance] = [i for i in today if i["habit_id"] == created.json()["id"]]
    return instance["id"]


def test_losing_one_shard_closes_only_its_sockets_and_loses_no_committed_change(
    system: System, shards: list[PrivateRedis]
) -> None:
    ring = start_sharded(system, shards)
    group_shard = users_on_every_shard(ring, USERS_PER_SHARD)
    sockets: dict[User, Live] = {user: system.socket(user) for user in group_shard}

    # Events reach every socket, whichever shard holds its group.
    for user in sockets:
        assert system.call("POST", "/api/habits/", user, json=habit("before")).status_code == 201
    for user, live in sockets.items():
        assert live.frames_until("habit.created")[-1]["data"]["action"] == "before", user
    for n, shard in enumerate(shards):
        groups = shard.client().keys(f"{ring.prefix}:group:*")
        assert len(groups) == USERS_PER_SHARD, (n, groups)  # each group on its own shard only

    inbox = {user: inbox_shard(ring, shards, user) for user in sockets}

    def served_by(shard: int) -> set[User]:
        return {u for u in sockets if shard in (group_shard[u], inbox[u])}

    # Lose the shard that leaves the most sockets standing (when both web processes' inboxes
    # share a shard, the other one: then only group memberships are lost with it).
    lost = min(range(len(shards)), key=lambda n: len(served_by(n)))
    closing, standing = served_by(lost), set(sockets) - served_by(lost)
    assert closing, (group_shard, inbox)
    assert standing, (group_shard, inbox)
    shards[lost].kill()

    for user in closing:
        assert sockets[user].close_code(timeout=CLOSE_WITHIN_SECONDS) == CLOSE_TRY_AGAIN, user
    for user in standing:  # still open, still hearing their events
        assert system.call("POST", "/api/habits/", user, json=habit("during")).status_code == 201
        assert sockets[user].frames_until("habit.created")[-1]["data"]["action"] == "during"

    # A completion while its user's group shard is away: committed, nobody told.
    [cut_off, *_] = [u for u in closing if group_shard[u] == lost]
    instance_id = pending_instance(system, cut_off, "stretch")
    done = system.call("POST", f"/api/instances/{instance_id}/complete/", cut_off)
    assert done.status_code == 200, done.text
    assert HabitInstance.objects.get(pk=instance_id).status == Status.COMPLETED
    # Its socket cannot come back while its group's shard is away: told to try again later.
    with pytest.raises(ConnectionClosed) as refused:
        system.socket(cut_off)
    assert refused.value.rcvd.code == CLOSE_TRY_AGAIN

    shards[lost].start()  # back, empty (no persistence), as a supervisor restarts it

    for user in closing:
        again = reconnect(system, user, timeout=30)
        snapshot = {i["id"]: i["status"] for i in again.snapshot["data"]}
        if user == cut_off:
            assert snapshot[instance_id] == Status.COMPLETED
        assert system.call("POST", "/api/habits/", user, json=habit("after")).status_code == 201
        assert again.frames_until("habit.created")[-1]["data"]["action"] == "after"
        again.close()
    for user in standing:
        sockets[user].close()


def test_losing_the_shard_of_a_web_process_inbox_closes_its_sockets_until_it_is_back(
    system: System, shards: list[PrivateRedis]
) -> None:
    """One web process: every socket's events come through its one inbox, whichever shard
    holds the socket's group, so losing the inbox's shard closes them all."""
    # The web command's worker count is fixed when the system is built (from this process's
    # environment), so one web process is asked for in its arguments, not its environment.
    system.argv["web"] = web_command("127.0.0.1", str(system.port), workers=1)
    ring = start_sharded(system, shards)
    group_shard = users_on_every_shard(ring, 1)
    sockets = {user: system.socket(user) for user in group_shard}
    [lost] = {inbox_shard(ring, shards, user) for user in sockets}
    [elsewhere] = [u for u in sockets if group_shard[u] != lost]  # its group is not lost

    shards[lost].kill()

    for user, live in sockets.items():
        assert live.close_code(timeout=CLOSE_WITHIN_SECONDS) == CLOSE_TRY_AGAIN, user
    instance_id = pending_instance(system, elsewhere, "stretch")
    done = system.call("POST", f"/api/instances/{instance_id}/complete/", elsewhere)
    assert done.status_code == 200, done.text

    shards[lost].start()

    for user in sockets:
        again = reconnect(system, user, timeout=30)
        if user == elsewhere:
            snapshot = {i["id"]: i["status"] for i in again.snapshot["data"]}
            assert snapshot[instance_id] == Status.COMPLETED
        assert system.call("POST", "/api/habits/", user, json=habit("after")).status_code == 201
        assert again.frames_until("habit.created")[-1]["data"]["action"] == "after"
        again.close()
