"""Hot Redis values kept in each process's memory for as long as Redis says they did not change.

Every authenticated request reads its user's token state from Redis, and `today` its list
with it: one round trip, which under load costs a web worker about as much CPU as the whole
rest of such a request (docs/PERFORMANCE.md, "The `today` budgets"). The entries of a cache
that declares `near` (core/versioned_cache.py: the token state, `today`, `me`, stats and the
habit lists' pages), named under
`near_prefix()` (`aht:<namespace>:near:`), may instead be answered from here.

How it stays right: Redis's client-side caching in broadcasting mode. Each process opens one
connection of its own, asks Redis to report every change of a key under that prefix on it
(`CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX ...`, then a SUBSCRIBE to those reports),
and reads it only without waiting. A write, a delete, an expiry, an eviction or a FLUSHDB of
such a key, by any client, is reported there in the same turn of Redis's event loop that
answers the writer. Before answering from memory a request takes whatever has arrived (a
non-blocking recv, no round trip) and drops what it names. So on one host (loopback, the
report written before or with the writer's answer) a change Redis has confirmed to its
writer is seen by the next request, whichever process serves it; over a network the report
can in rare cases arrive after a request that followed the change, within the bound below.
A process forgets its own writes at once (`forget`).

Bounds:
- Only while the connection is known to work: an answer from memory needs the answer to a
  PING sent on it at most `LIVENESS_SECONDS` before (one goes out when the last is half
  that old), which proves that every report sent before it has arrived. A connection that
  breaks drops everything held, and one that falls silent (Redis stalled, a partition)
  stops the answers from memory at once; unanswered for `DEAD_SECONDS`, it is replaced.
  Meanwhile requests read Redis, as without this cache. A change is so missed for at most
  LIVENESS_SECONDS.
- A value read from Redis while a change of its key was under way is not kept: each read
  leaves a placeholder that a report about its key removes, as Redis's documentation of
  client-side caching recommends.
- An entry lives `SECONDS` at most (its expiry in Redis is reported too), and a process holds
  at most `MAX_ENTRIES` of them and `MAX_BYTES` of values, the oldest going first.
- A process that serves no request reads no report: they wait in its socket and then in
  Redis (its pub/sub output limit), which closes the connection when they outgrow it; the
  next request finds it closed and starts afresh.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import hiredis
import redis
from django.conf import settings
from redis.connection import parse_url

from core import redis as names
from core.redis import mget

logger = logging.getLogger(__name__)

SECONDS = 10.0
MAX_ENTRIES = 5_000
MAX_BYTES = 16 * 1024 * 1024
LIVENESS_SECONDS = 1.0
# A PING unanswered this long: the connection is taken for dead (no FIN may ever come).
DEAD_SECONDS = 10.0
# Pub/sub channel of Redis's tracking reports (RESP2): [b"message", channel, keys | None].
CHANNEL = b"__redis__:invalidate"
PONG = [b"pong", b""]  # PING's answer on a subscribed connection
# After a failed connection the next try waits this long, doubled each time up to the most
# (requests read Redis meanwhile).
RECONNECT_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 60.0
READ_BYTES = 65_536


class LinkBroken(Exception):
    """The reporting connection closed or failed: nothing held can be trusted."""


class _Link:
    """The connection on which Redis reports changes under `prefix`."""

    def __init__(self, url: str, timeout: float, prefix: str) -> None:
        parts = parse_url(url)
        deadline = time.monotonic() + timeout  # for the whole set-up, not each step
        self.sock = socket.create_connection((parts["host"], parts.get("port", 6379)), timeout)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.reader = hiredis.Reader()
        self.buffer = bytearray(READ_BYTES)
        try:
            if parts.get("password"):
                credentials = filter(None, [parts.get("username"), parts["password"]])
                self._call(deadline, "AUTH", *credentials)
            own_id = self._call(deadline, "CLIENT", "ID")
            tracking = ("CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST", "PREFIX", prefix)
            self._call(deadline, *tracking)
            self._call(deadline, "SUBSCRIBE", CHANNEL)
        except BaseException:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        # Every report Redis sent before this moment has arrived (a PING sent then has been
        # answered, and the answer comes after them on the connection).
        self.confirmed = time.monotonic()
        self.ping_sent: float | None = None

    def _call(self, deadline: float, *args: object) -> object:
        """A command of the set-up, answered before `deadline` or LinkBroken."""
        self.sock.sendall(hiredis.pack_command(args))
        while (reply := self.reader.gets()) is False:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LinkBroken("Redis did not answer the set-up in time")
            self.sock.settimeout(left)
            read = self.sock.recv(READ_BYTES)
            if not read:
                raise LinkBroken("Redis closed the connection")
            self.reader.feed(read)
        if isinstance(reply, hiredis.ReplyError):
            raise LinkBroken(f"Redis refused {args[0]}: {reply}")
        return reply

    def reports(self) -> Iterator[list[bytes] | None]:
        """The keys of each change report that has arrived (None: everything changed)."""
        while True:
            try:
                count = self.sock.recv_into(self.buffer)
            except BlockingIOError:
                break
            except OSError as error:
                raise LinkBroken(str(error)) from error
            if not count:
                raise LinkBroken("Redis closed the connection")
            self.reader.feed(self.buffer, 0, count)
        while True:
            try:
                message = self.reader.gets()
            except hiredis.ProtocolError as error:
                raise LinkBroken(str(error)) from error
            if message is False:
                return
            if message == PONG and self.ping_sent is not None:
                self.confirmed, self.ping_sent = self.ping_sent, None
            elif isinstance(message, list) and message[:2] == [b"message", CHANNEL]:
                yield message[2]

    def alive(self, now: float) -> bool:
        """Every report is known to have arrived up to LIVENESS_SECONDS ago; asks Redis for
        a new proof (a PING) when the last one is half that old."""
        if self.ping_sent is None and now - self.confirmed > LIVENESS_SECONDS / 2:
            ping = hiredis.pack_command(("PING",))
            try:
                sent = self.sock.send(ping)
            except OSError as error:
                raise LinkBroken(str(error)) from error
            if sent != len(ping):
                raise LinkBroken("Redis takes no more from this connection")
            self.ping_sent = now
        elif self.ping_sent is not None and now - self.ping_sent > DEAD_SECONDS:
            raise LinkBroken(f"no answer to a PING in {DEAD_SECONDS:g} s")
        return now - self.confirmed <= LIVENESS_SECONDS

    def close(self) -> None:
        self.sock.close()


class NearCache:
    """Values of keys under `near_prefix()` in this process; see the module's docstring."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[bytes, float]] = {}  # value, deadline; oldest first
        self.size = 0  # bytes of the values held
        self.placeholders: dict[str, int] = {}  # key: the ticket of the read under way
        self.tickets = 0
        self.link: _Link | None = None
        self.pid = os.getpid()
        self.next_connect = 0.0
        self.failures = 0

    def __repr__(self) -> str:  # not the entries: users' token states and lists
        return f"<NearCache {len(self.entries)} entries, {'up' if self.link else 'down'}>"

    def values(self, keys: Sequence[str]) -> list[bytes] | None:
        """The values of all `keys` if every one is held and still good, else None."""
        with self.lock:
            now = time.monotonic()
            if self._same_process() and self.link is not None:
                return self._held(keys, now) if self._up_to_date(now) else None
            connect = now >= self.next_connect
            if connect:
                delay = min(RECONNECT_SECONDS * 2**self.failures, RECONNECT_MAX_SECONDS)
                self.next_connect = now + delay
        if connect:  # outside the lock: a Redis slow to accept must not hold up the others
            self._connect()
        return None

    @contextmanager
    def reading(self, keys: Sequence[str]) -> Iterator[int]:
        """Around a read of `keys` from Redis, the ticket to `keep` its values with: a report
        about one of them arriving meanwhile (the value read may be the old one) voids it."""
        with self.lock:
            self.tickets += 1
            ticket = self.tickets
            for key in keys:
                self.placeholders[key] = ticket
        try:
            yield ticket
        finally:
            with self.lock:
                for key in keys:
                    if self.placeholders.get(key) == ticket:
                        del self.placeholders[key]

    def keep(self, ticket: int, found: Mapping[str, bytes]) -> None:
        """Hold the values read under `ticket` whose keys saw no report since."""
        with self.lock:
            if not self._same_process() or self.link is None:
                return
            try:
                self._apply_reports()
            except LinkBroken as error:
                self._drop_link(error)
                return
            deadline = time.monotonic() + SECONDS
            for key, value in found.items():
                if self.placeholders.get(key) == ticket:
                    self._drop(key)  # a re-read entry moves to the young end
                    self.entries[key] = (value, deadline)
                    self.size += len(value)
            while len(self.entries) > MAX_ENTRIES or self.size > MAX_BYTES:
                self._drop(next(iter(self.entries)))

    def forget(self, keys: Sequence[str]) -> None:
        """This process changed `keys`: drop them now (Redis reports it to the others).

        Only those held or being read are looked at, found by a set intersection (in C): a
        sweep's batch forgets 15,000 names in a worker that holds few of them, and a call
        a name cost about a millisecond a thousand."""
        with self.lock:
            for key in self.entries.keys() & keys:
                self._drop(key)
            for key in self.placeholders.keys() & keys:
                del self.placeholders[key]

    def close(self) -> None:
        """Drop everything and the connection (the next `values` connects anew)."""
        with self.lock:
            if self.link is not None:
                self._unlink()

    def _invalidate(self, key: str) -> None:
        """`key` changed: neither the value held nor one being read may be kept."""
        self._drop(key)
        self.placeholders.pop(key, None)

    def _drop(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry[0])

    def _clear(self) -> None:
        self.entries.clear()
        self.placeholders.clear()
        self.size = 0

    def _up_to_date(self, now: float) -> bool:
        """Every report Redis sent has been applied and the connection is known to work."""
        try:
            self._apply_reports()
            return self.link.alive(now)
        except LinkBroken as error:
            self._drop_link(error)
            return False

    def _held(self, keys: Sequence[str], now: float) -> list[bytes] | None:
        found = []
        for key in keys:
            entry = self.entries.get(key)
            if entry is None or entry[1] <= now:
                return None
            found.append(entry[0])
        return found

    def _same_process(self) -> bool:
        """False in a forked child, once: the parent's connection and entries are not its own."""
        if self.pid == os.getpid():
            return True
        self.link, self.pid = None, os.getpid()
        self._clear()
        return False

    def _apply_reports(self) -> None:
        for keys in self.link.reports():
            if keys is None:
                self._clear()
                continue
            for key in keys:
                # Ours are ASCII: a stray name matches none.
                self._invalidate(key.decode(errors="replace"))

    def _connect(self) -> None:
        try:
            link = _Link(self.url, self.timeout, near_prefix())
        except Exception as error:  # whatever it was, this process reads Redis meanwhile
            with self.lock:
                self.failures += 1
            logger.warning("near cache off for now: Redis reports unavailable (%s)", error)
            return
        with self.lock:
            self.failures = 0
            if self.link is None and self._same_process():
                self.link = link
                self._clear()  # whatever was read before the reports began is unknown
            else:
                link.close()

    def _drop_link(self, error: LinkBroken) -> None:
        logger.warning("near cache off for now: its Redis connection broke (%s)", error)
        self._unlink()

    def _unlink(self) -> None:
        self.link.close()
        self.link = None
        self._clear()


NEAR = "near"  # the family of the keys Redis reports on to this cache


def near_prefix() -> str:
    """The keys Redis reports on to this cache: `aht:<namespace>:near:`, so it reports only
    this installation's changes, and another installation's keys are never held. A cache that
    declares `near` (core/versioned_cache.py) names its entries under it."""
    return names.key_prefix(NEAR)


_made: dict[str, NearCache] = {}
_making = threading.Lock()


def get_near_cache() -> NearCache | None:
    """This process's near cache for REDIS_URL; None when `NEAR_CACHE` is off or the URL is
    not plain TCP (`redis://`): then every read goes to Redis."""
    url = settings.REDIS_URL
    if not settings.NEAR_CACHE or not url.startswith("redis://"):
        return None
    if url not in _made:
        with _making:
            _made.setdefault(url, NearCache(url, settings.REDIS_SOCKET_TIMEOUT))
    return _made[url]


def mget_near(
    client: redis.Redis, keys: Sequence[str], held: Sequence[str]
) -> dict[str, bytes | None]:
    """The values of `keys` by key. From this process's memory when it holds every one of
    `held` (those of `keys` that a cache declared `near`, all under `near_prefix()`): then only
    those are in the answer (the others were not read). Else all of them from Redis in one
    MGET (`core.redis.mget`), keeping those of `held` found."""
    near = get_near_cache()
    if near is None or not held:
        return dict(zip(keys, mget(client, keys), strict=True))
    values = near.values(held)
    if values is not None:
        return dict(zip(held, values, strict=True))
    with near.reading(held) as ticket:
        found = dict(zip(keys, mget(client, keys), strict=True))
        near.keep(ticket, {key: found[key] for key in held if found[key] is not None})
    return found


def near_forget(keys: Sequence[str]) -> None:
    """This process changed `keys` in Redis: its own memory drops them at once."""
    near = get_near_cache()
    if near is not None:
        near.forget(keys)
