"""Each user's `today` list cached in Redis as the very JSON the API answers.

`GET /api/instances/today/` is the busiest read there is (every client's first screen, the
dashboard on each reconnect), and building it costs far more than serving it: a join, the
ORM rows and the schema. So the answer is kept as bytes under `...:near:today:<user_id>`, as
`<local date>|<json>`; an entry of another date (the user's midnight passed, or their
timezone moved it) is a miss. Each process keeps what it read in memory while Redis reports
no change of it (config/near_cache.py): read with the token state, a cached list then costs
the request no Redis round trip at all.

Never stale after a commit: whatever changes a user's instances or habits records an event
naming them (`core.events.record`), and the reactions (config/reactions.py) call
`today_forget(user_ids)` after the commit, before any frame goes out. It bumps
`...:today_version:<user_id>` and drops the entry; a miss stores what it read only if the
version is still the one it saw before reading (`STORE_IF_VERSION`), so a read that began
before the commit can never put the old list back after it. Nothing touches Redis inside
the transaction: a completion or a sweep holds row locks there, and Redis being slow must
not hold them longer.

Bounds: a change through the services shows at once in every process (from memory, within
near_cache.LIVENESS_SECONDS when a process cannot hear Redis). A row changed behind their
back (an UPDATE in psql, a test factory), or a change whose after-commit forget met Redis
away, shows within `TTL_SECONDS` (plus, at worst, near_cache.SECONDS when Redis is late to
expire the entry). Redis away: every request reads the database, as before the cache.
"""

import json
import logging
from collections.abc import Iterable
from datetime import date

import redis
from ninja.responses import NinjaJSONEncoder

from accounts.models import User
from accounts.timezones import local_today
from accounts.token_state import Prefetched
from config.near_cache import mget_near, near_forget, near_key
from config.redis import STORE_IF_VERSION, get_redis, key
from instances.schemas import InstanceOut
from instances.selectors import instance_list_today

logger = logging.getLogger(__name__)

TTL_SECONDS = 60
# Longer than any read between a miss and its store, so a version is never lost under one.
VERSION_TTL_SECONDS = 24 * 3600
SEPARATOR = b"|"


def _key(user_id: int) -> str:
    return near_key("today", user_id)


def _version_key(user_id: int) -> str:
    return key("today_version", user_id)


def today_json_from_db(user: User, today: date) -> bytes:
    """The list as the API renders `list[InstanceOut]` (same schema, same JSON encoder)."""
    items = [
        InstanceOut.from_orm(i).model_dump() for i in instance_list_today(user=user, today=today)
    ]
    return json.dumps(items, cls=NinjaJSONEncoder).encode()


def _cached_body(entry: bytes | None, today: date) -> bytes | None:
    if entry is None:
        return None
    day, _, body = entry.partition(SEPARATOR)
    return body if day == today.isoformat().encode() else None


def _store(client: redis.Redis, user_id: int, entry: bytes, seen: bytes | None) -> None:
    keys = [_key(user_id), _version_key(user_id)]
    client.eval(STORE_IF_VERSION, 2, *keys, entry, seen or b"", TTL_SECONDS)


def today_keys(user_id: int) -> tuple[str, str]:
    """The entry and its version: what `today_json` reads (JWTAuth can read them for it)."""
    return _key(user_id), _version_key(user_id)


def today_json(user: User, prefetched: Prefetched | None = None) -> bytes:
    """The JSON of the user's instances on their local today: Redis first, else the database.

    `prefetched`: the values of `today_keys` read in this request (the entry alone when it
    came from memory), or False when that read found Redis away (then it is not asked
    again)."""
    today = local_today(user.timezone)
    if prefetched is False:
        return today_json_from_db(user, today)
    entry_key, version_key = today_keys(user.pk)
    try:
        client = get_redis()
        if prefetched and entry_key in prefetched:
            found = prefetched
        else:
            found = mget_near(client, [entry_key, version_key])
        body = _cached_body(found[entry_key], today)
        if body is not None:
            return body
        # The version before the database is read (STORE_IF_VERSION): a miss from memory
        # (an entry of yesterday) has not read it yet.
        seen = found[version_key] if version_key in found else client.get(version_key)
    except redis.RedisError:
        return today_json_from_db(user, today)
    body = today_json_from_db(user, today)
    try:
        _store(client, user.pk, today.isoformat().encode() + SEPARATOR + body, seen)
    except redis.RedisError:
        logger.warning("today of user %s not cached: Redis does not answer", user.pk)
    return body


# One round trip for many users: a pipeline of three commands a user costs redis-py about
# 40 µs of Python each (a sweep of 1,000 owners: 45 ms); the loop in Redis costs microseconds.
# KEYS: the version keys, then the entry keys, in the same order. ARGV: the versions' ttl.
FORGET = """
local users = #KEYS / 2
for i = 1, users do
    redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], ARGV[1])
    redis.call('DEL', KEYS[users + i])
end
return users
"""
# Users a script call forgets at most: Redis runs nothing else meanwhile.
FORGET_BATCH = 1_000


def today_forget(user_ids: Iterable[int]) -> None:
    """Drop the users' cached lists and bump their versions: the next request reads the DB."""
    ids = sorted(set(user_ids))
    try:
        client = get_redis()
        for start in range(0, len(ids), FORGET_BATCH):
            batch = ids[start : start + FORGET_BATCH]
            keys = [_version_key(u) for u in batch] + [_key(u) for u in batch]
            client.eval(FORGET, len(keys), *keys, VERSION_TTL_SECONDS)
    except redis.RedisError:
        # An entry may then outlive the change by up to TTL_SECONDS: say so loudly.
        logger.error("today of %d user(s) not forgotten: Redis does not answer", len(ids))
    finally:
        near_forget([_key(u) for u in ids])
