"""Every reaction to every recorded event, in one table: read a row to know all that follows
a change (e.g. `instance.completed`).

`WITHIN` runs inside the change's transaction, at `record` (it commits or rolls back with
the change: outbox rows, instances re-planned, a cache forgotten early). `AFTER_COMMIT`
runs once the transaction has committed, in the order listed, which the clients rely on:
caches are forgotten before a frame tells anyone to reload, the instance frame goes before
its `stats.updated`, the token state is forgotten before the sockets are told to revoke.
Payloads are built here, after the commit, from the committed rows.
"""

from collections.abc import Callable

from accounts.events import USER_CHANGED, USER_TIMEZONE_CHANGED, USER_TOKENS_ENDED
from accounts.token_state import token_state_forget
from core.events import Event
from habits.events import (
    HABIT_CREATED,
    HABIT_DELETED,
    HABIT_UPDATED,
    habit_announce,
    stats_changed,
    stats_forget,
)
from instances import tasks as instance_tasks
from instances.events import (
    INLINE_ANNOUNCE_MAX,
    INSTANCE_COMPLETED,
    INSTANCE_CREATED,
    INSTANCE_DELETED,
    INSTANCE_UPDATED,
    instances_announce,
)
from instances.services import instances_on_timezone_changed
from instances.today_cache import today_forget
from realtime.broadcast import revoke_sessions
from telegram.events import (
    OUTBOX_READY,
    TELEGRAM_BOUND,
    TELEGRAM_UNBOUND,
    binding_announce,
    poke_bot,
)
from telegram.services import reminders_mark_done

Reaction = Callable[[Event], None]


# --- accounts --------------------------------------------------------------------------------


def forget_token_state(event: Event) -> None:
    token_state_forget(event.facts["user_id"])


def revoke_sockets(event: Event) -> None:
    """The user's sockets opened with an older token close 4401."""
    revoke_sessions(user_id=event.facts["user_id"], version=event.facts["version"])


def replan_instances(event: Event) -> None:
    instances_on_timezone_changed(user_id=event.facts["user_id"])


# --- habits and instances --------------------------------------------------------------------


def forget_today(event: Event) -> None:
    """The owners' cached `today` lists go (a habit's fields show in its instances' rows)."""
    facts = event.facts
    today_forget(facts["user_ids"] if "user_ids" in facts else [facts["user_id"]])


def send_habit(event: Event) -> None:
    habit_announce(
        type=event.type, habit_id=event.facts["habit_id"], user_id=event.facts["user_id"]
    )


def refresh_habit_stats(event: Event) -> None:
    stats_changed({event.facts["habit_id"]: event.facts["user_id"]})


def drop_habit_stats(event: Event) -> None:
    stats_forget([event.facts["habit_id"]])


def send_instances(event: Event) -> None:
    """Frames of the committed instances (`instance.updated` for a completion), then their
    habits' `stats.updated`. A big batch goes to a worker so the sweep's cost stays its own."""
    ids = list(event.facts["ids"])
    if not ids:
        return
    frame = INSTANCE_CREATED if event.type == INSTANCE_CREATED else INSTANCE_UPDATED
    if len(ids) <= INLINE_ANNOUNCE_MAX:
        instances_announce(type=frame, ids=ids)
    else:
        instance_tasks.announce_instances.delay(frame, ids)


def sweep_if_under_way(event: Event) -> None:
    """Instances created after their time: the sweep sends their reminders now rather than
    at its next tick (with the broker away, beat's next tick does)."""
    if event.facts.get("under_way"):
        instance_tasks.sweep_instances.delay()


def mark_reminders_done(event: Event) -> None:
    """Telegram's reaction to a completion: its reminders say "done" (same transaction)."""
    for instance_id in event.facts["ids"]:
        reminders_mark_done(instance_id=instance_id)


def refresh_deleted_stats(event: Event) -> None:
    stats_changed(event.facts["owners"])


# --- telegram --------------------------------------------------------------------------------


def send_binding(event: Event) -> None:
    binding_announce(type=event.type, user_id=event.facts["user_id"])


def wake_bot(event: Event) -> None:
    poke_bot()


WITHIN: dict[str, tuple[Reaction, ...]] = {
    # Also before the commit: the same transaction, or a test that never commits, reads anew.
    USER_TOKENS_ENDED: (forget_token_state,),
    USER_TIMEZONE_CHANGED: (forget_token_state, replan_instances),
    USER_CHANGED: (forget_token_state,),
    INSTANCE_COMPLETED: (mark_reminders_done,),
}

AFTER_COMMIT: dict[str, tuple[Reaction, ...]] = {
    USER_TOKENS_ENDED: (forget_token_state, revoke_sockets),
    USER_TIMEZONE_CHANGED: (forget_token_state,),
    USER_CHANGED: (forget_token_state,),
    HABIT_CREATED: (forget_today, send_habit),
    HABIT_UPDATED: (forget_today, send_habit, refresh_habit_stats),
    HABIT_DELETED: (forget_today, send_habit, drop_habit_stats),
    INSTANCE_CREATED: (forget_today, send_instances, sweep_if_under_way),
    INSTANCE_UPDATED: (forget_today, send_instances),
    INSTANCE_COMPLETED: (forget_today, send_instances),
    INSTANCE_DELETED: (forget_today, refresh_deleted_stats),
    TELEGRAM_BOUND: (send_binding,),
    TELEGRAM_UNBOUND: (send_binding,),
    OUTBOX_READY: (wake_bot,),
}
