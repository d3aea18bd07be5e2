"""The one door through which a change tells the world what happened: `record`.

A service calls `record(type, **facts)` inside its transaction, with ids and small facts
only (never model rows: what leaves is read again after the commit, from the committed rows;
a single instance's change may give its frame's JSON as it left the row, which is what a
read would find: instances/services/recorded.py).
Nothing else in the project registers after-commit work (tests/config/test_one_door.py keeps
it so), as Zulip's `send_event_on_commit` is the only door to its event queue.

The dispatcher named by `settings.EVENT_DISPATCHER` (resolved lazily: this module imports no
app and not the top layer) gets each event twice:

- `within(event)` at once, inside the transaction: the few reactions that must commit or
  roll back with the change (an outbox row, rows re-planned with it).
- `after_commit(events)` once the transaction has committed, with every event the
  transaction recorded, in order. Nothing on rollback: events of a savepoint that rolls
  back go with it, as Django's own commit callbacks do.

Outside a transaction (autocommit) the change is committed already: both run at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Event:
    """What happened: `<entity>.<verb>` and the ids and small facts that say to whom."""

    type: str
    facts: dict[str, Any] = field(default_factory=dict)
    # What its reactions learned about it, shared between them (config/change_probe.py
    # reads once what several would each have read).
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class Dispatcher(Protocol):
    def within(self, event: Event) -> None: ...

    def after_commit(self, events: Sequence[Event]) -> None: ...


@dataclass
class _Batch:
    """The events of one transaction (or savepoint), handed over in one commit callback."""

    sids: frozenset[str]
    events: list[Event]

    def __call__(self) -> None:
        dispatcher().after_commit(self.events)


def dispatcher() -> Dispatcher:
    return import_string(settings.EVENT_DISPATCHER)


def record(type: str, /, *, using: str = DEFAULT_DB_ALIAS, **facts: Any) -> None:
    """Record that `type` happened; its reactions run inside the transaction (few) and after
    the commit (the rest), never on rollback. Facts: ids and small values, no model rows."""
    event = Event(type, facts)
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        dispatcher().within(event)
        dispatcher().after_commit([event])
        return
    _append(connection, event, using)
    dispatcher().within(event)


def _append(connection: Any, event: Event, using: str) -> None:
    """Join the transaction's batch, or open one with a single commit callback.

    Joining only the latest callback, and only at the same savepoint depth, keeps the order
    of events among all commit callbacks, and lets a rolled-back savepoint drop its events
    with its callback (Django removes the callbacks registered inside it).
    """
    sids = frozenset(connection.savepoint_ids)
    if connection.run_on_commit:
        last_sids, last, _robust = connection.run_on_commit[-1]
        if isinstance(last, _Batch) and last.sids == sids and set(last_sids) == sids:
            last.events.append(event)
            return
    # Robust: a broker or Redis away after the commit must not fail the committed request.
    transaction.on_commit(_Batch(sids, [event]), using=using, robust=True)


def record_now(type: str, /, **facts: Any) -> None:
    """Tell at once something that is no change of the database: the progress of a long
    import running inside its one transaction, which `record` would hold until the commit
    (and drop on a rollback). Only the after-commit reactions run, now, whatever transaction
    is open; they must read nothing that transaction writes. A change always goes through
    `record`."""
    dispatcher().after_commit([Event(type, facts)])
