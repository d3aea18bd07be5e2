"""Every reaction to every recorded event, in one table: read a row to know all that follows
a change (e.g. `instance.completed`).

`WITHIN` runs inside the change's transaction, at `record` (it commits or rolls back with
the change: outbox rows, instances re-planned, a cache forgotten early). `AFTER_COMMIT`
runs once the transaction has committed, in the order listed, which the clients rely on:
caches are forgotten before a frame tells anyone to reload, the instance frame goes before
its `stats.updated`, the token state is forgotten before the sockets are told to revoke.
Payloads are built here, after the commit, from the committed rows; a webhook's body is the
exception: built in the change's transaction (`owe_webhooks`), so every retry sends the
change as it was made.
"""

from collections.abc import Callable, Iterable

from accounts.events import (
    PERSONAL_TOKEN_REVOKED,
    USER_CHANGED,
    USER_TIMEZONE_CHANGED,
    USER_TOKENS_ENDED,
)
from accounts.me_cache import me_forget
from accounts.personal_tokens import personal_token_forget
from accounts.token_state import token_state_forget
from config.change_probe import change_probe
from core.events import Event
from core.presence import online_among
from core.versioned_cache import forget_together
from habits.events import HABIT_CREATED, HABIT_DELETED, HABIT_UPDATED
from habits.list_cache import HABIT_PAGES, habit_lists_forget, public_feed_forget
from instances.events import (
    INSTANCE_COMPLETED,
    INSTANCE_CREATED,
    INSTANCE_DELETED,
    INSTANCE_SKIPPED,
    INSTANCE_UPDATED,
    PAUSE_CREATED,
    PAUSE_DELETED,
    PAUSE_UPDATED,
    PROGRAM_FINISHED,
)
from instances.selectors import habit_owners_of
from instances.services import (
    instances_on_habit_changed,
    instances_on_habit_created,
    instances_on_timezone_changed,
    instances_shrink_courses,
    instances_stretch_courses,
    programs_settle,
    programs_settle_after,
    programs_settle_expired,
    programs_settle_locked,
)
from instances.stats_cache import STATS, stats_forget
from instances.today_cache import TODAY, today_forget
from realtime import tasks as realtime_tasks
from realtime.broadcast import broadcast, revoke_sessions, revoke_token_sessions
from realtime.frames import (
    INLINE_ANNOUNCE_MAX,
    habit_announce,
    habit_data,
    instances_announce,
    instances_data,
    instances_data_announce,
    pause_announce,
    pause_data,
    today_announce,
)
from telegram import tasks as telegram_tasks
from telegram.events import OUTBOX_READY, TELEGRAM_BOUND, TELEGRAM_UNBOUND, poke_bot
from telegram.models import OutboxKind
from telegram.selectors import bound_username
from telegram.services import (
    cue_reminders_owe,
    notice_owe,
    program_finished_owe,
    reminders_settle,
)
from transfer import tasks as transfer_tasks
from transfer.events import IMPORT_FINISHED, IMPORT_PROGRESS, IMPORT_QUEUED
from transfer.models import ImportJob
from webhooks import tasks as webhooks_tasks
from webhooks.events import WEBHOOK_DISABLED, WEBHOOK_OWED
from webhooks.selectors import webhook_disabled_data
from webhooks.services import deliveries_owe, subscribers_of

Reaction = Callable[[Event], None]

# The frame type each event is seen as, on the socket and by the webhooks alike.
FRAME_OF: dict[str, str] = {
    INSTANCE_CREATED: INSTANCE_CREATED,
    INSTANCE_UPDATED: INSTANCE_UPDATED,
    INSTANCE_COMPLETED: INSTANCE_UPDATED,
    INSTANCE_SKIPPED: INSTANCE_UPDATED,
    HABIT_CREATED: HABIT_CREATED,
    HABIT_UPDATED: HABIT_UPDATED,
    HABIT_DELETED: HABIT_DELETED,
    PROGRAM_FINISHED: HABIT_UPDATED,
    PAUSE_CREATED: PAUSE_CREATED,
    PAUSE_UPDATED: PAUSE_UPDATED,
    PAUSE_DELETED: PAUSE_DELETED,
    TELEGRAM_BOUND: TELEGRAM_BOUND,
    TELEGRAM_UNBOUND: TELEGRAM_UNBOUND,
    WEBHOOK_DISABLED: WEBHOOK_DISABLED,
}


# --- accounts --------------------------------------------------------------------------------


def forget_token_state(event: Event) -> None:
    token_state_forget(event.facts["user_id"])


def forget_me(event: Event) -> None:
    """`GET /api/auth/me/`'s cached answer goes (its email, timezone or quiet hours moved)."""
    me_forget([event.facts["user_id"]])


def forget_personal_token(event: Event) -> None:
    """Every process drops the revoked token's cached state (the near cache hears it)."""
    personal_token_forget(event.facts["token_hash"])


def close_token_sockets(event: Event) -> None:
    """Sockets opened with the revoked token close 4401 (after its state is forgotten)."""
    revoke_token_sessions(user_id=event.facts["user_id"], token_id=event.facts["token_id"])


def revoke_sockets(event: Event) -> None:
    """The user's sockets opened with an older token close 4401."""
    revoke_sessions(user_id=event.facts["user_id"], version=event.facts["version"])


def send_today(event: Event) -> None:
    """The mover's sockets get a fresh `today.snapshot`: their local date may have moved."""
    today_announce(user_id=event.facts["user_id"])


def replan_instances(event: Event) -> None:
    instances_on_timezone_changed(user_id=event.facts["user_id"])


# --- habits and instances --------------------------------------------------------------------


def plan_new_habit(event: Event) -> None:
    """A new habit's instances, in its transaction (so they exist when it does)."""
    instances_on_habit_created(habit_id=event.facts["habit_id"])


def refit_courses(event: Event) -> None:
    """Near its end, a course a skip stretches gets the day already planned, and one an undo
    shrinks loses the occurrence too many (`refitting`: one instance's change, whose service
    knows whether it may; otherwise a pause's batch, skipped or `given_back`)."""
    facts = event.facts
    skipped = event.type == INSTANCE_SKIPPED
    refit = instances_stretch_courses if skipped else instances_shrink_courses
    if "refitting" in facts:
        if facts["refitting"]:
            refit(habit_ids=facts["refitting"])
    elif skipped or facts.get("given_back"):
        refit(instance_ids=facts["ids"])


def replan_habit(event: Event) -> None:
    """A schedule change moves the habit's instances that are not yet pending, in its
    transaction (nothing when no schedule field changed); a new limit may finish or reopen
    its course."""
    instances_on_habit_changed(habit_id=event.facts["habit_id"], changed=event.facts["changed"])


def settle_programs(event: Event) -> None:
    """Did the change finish a habit's course, or reopen one? Marked in its transaction, and
    `program.finished` recorded once per finished habit."""
    facts = event.facts
    if "settling" in facts:  # one instance, its habit locked with it by the change
        probe = change_probe(event)
        if facts["settling"] and probe is not None and probe.course_may_settle:
            programs_settle_locked(habit_ids=facts["settling"])
    elif "ids" not in facts:
        programs_settle(habit_ids=facts["owners"])
    elif facts.get("swept"):
        # Moves to pending or missed finish no course; the sweep names the habits of those it
        # expired.
        programs_settle_expired(habit_ids=facts["expired_habits"], since=facts["expired_since"])
    else:
        programs_settle_after(instance_ids=facts["ids"])


def send_finished_habit(event: Event) -> None:
    """The owner sees the finished program as `habit.updated` (`program.finished` true)."""
    habit_announce(
        type=FRAME_OF[event.type], habit_id=event.facts["habit_id"],
        user_id=event.facts["user_id"],
    )  # fmt: skip


def _owners(event: Event) -> list[int]:
    """The users whose rows the event changed."""
    facts = event.facts
    return list(facts["user_ids"]) if "user_ids" in facts else [facts["user_id"]]


def forget_today(event: Event) -> None:
    """The owners' cached `today` lists go (a habit's fields show in its instances' rows)."""
    today_forget(_owners(event))


def forget_habit_lists(event: Event) -> None:
    """The owners' cached pages of `GET /api/habits/` go (the habits' fields, or their
    programs, counted from the instances)."""
    habit_lists_forget(_owners(event))


def forget_public_feed(event: Event) -> None:
    """The public feed's cached pages go: a habit that is or was public changed (`public`),
    or a user's habits entered or left it (deactivated, re-activated, deleted, imported)."""
    if event.facts.get("public", True):
        public_feed_forget()


def send_habit(event: Event) -> None:
    habit_announce(
        type=event.type, habit_id=event.facts["habit_id"], user_id=event.facts["user_id"]
    )


def _logged(*args: object) -> str:
    """A task's arguments as its log line shows them, a list by its length: Celery's own
    repr of a sweep's 5,000 ids or rows walked them all, milliseconds a batch, to print its
    first 1,024 characters."""
    shown = (f"<{len(a)} items>" if isinstance(a, list) else repr(a) for a in args)
    return f"({', '.join(shown)})"


def send_instances(event: Event) -> None:
    """Frames of the committed instances (`instance.updated` for a completion). A big batch
    goes to a worker so the sweep's cost stays its own."""
    ids = list(event.facts["ids"])
    if not ids:
        return
    frame = FRAME_OF[event.type]
    if "data" in event.facts:  # the change's own row, as it left it (instance_change_record)
        data = event.facts["data"]
        online = event.memo["online"] if "online" in event.memo else online_among(data)
        instances_data_announce(type=frame, data_by_user=data, online=online)
    elif len(ids) <= INLINE_ANNOUNCE_MAX:
        instances_announce(type=frame, ids=ids)
    else:
        realtime_tasks.announce_instances.apply_async((frame, ids), argsrepr=_logged(frame, ids))


def send_pause(event: Event) -> None:
    pause_announce(
        type=event.type, pause_id=event.facts["pause_id"], user_id=event.facts["user_id"]
    )


def _refresh_stats(owners: dict[int, int]) -> None:
    """The habits' cached stats go now, so no reader sees old numbers after the commit; the
    fresh ones are computed by a worker, off the response path of the change, and sent as
    `stats.updated` to the owners with a socket open (and cached)."""
    _announce_stats(owners, stats_forget(owners))


def _announce_stats(
    owners: dict[int, int], versions: dict[int, int], online: set[int] | None = None
) -> None:
    """A worker computes the stats forgotten under `versions` for the owners online."""
    online = online_among(owners.values()) if online is None else online
    rows = [(h, u, versions[h]) for h, u in owners.items() if u in online and h in versions]
    if rows:
        realtime_tasks.announce_stats.apply_async((rows,), argsrepr=_logged(rows))


def refresh_habit_stats(event: Event) -> None:
    _refresh_stats({event.facts["habit_id"]: event.facts["user_id"]})


def _instance_owners(event: Event) -> dict[int, int]:
    """`{habit_id: user_id}` of the changed instances: given by the change, else read once."""
    facts = event.facts
    if "owners" not in event.memo:
        event.memo["owners"] = facts.get("owners") or habit_owners_of(facts["ids"])
    return event.memo["owners"]


def forget_instance_caches(event: Event) -> None:
    """Before the instance frames, in one round trip to Redis: the owners' `today` lists and
    habit pages go, and the stats of the habits whose instances changed, so a client told to
    reload by the frame reads new numbers, and a worker's computation from before the change
    is not sent after it (stats_recompute sends only what it could store under the current
    version). The owners' presence comes back with it, for the frames and the stats refresh."""
    owners = _owners(event)
    habits = _instance_owners(event) if event.facts["ids"] else {}
    (_today, _pages, stats_versions), online = forget_together(
        [(TODAY, owners), (HABIT_PAGES, owners), (STATS, habits)], online_among=owners
    )
    event.memo["stats_versions"], event.memo["online"] = stats_versions, online


def refresh_instance_stats(event: Event) -> None:
    """After the instance frames: their fresh stats, computed by a worker, for those online."""
    if event.facts["ids"]:
        _announce_stats(
            _instance_owners(event), event.memo.get("stats_versions", {}), event.memo.get("online")
        )


def refresh_deleted_stats(event: Event) -> None:
    _refresh_stats(event.facts["owners"])


def drop_habit_stats(event: Event) -> None:
    """A deleted habit's cached stats go (nobody is told: the habit itself is gone)."""
    stats_forget([event.facts["habit_id"]])


# --- telegram --------------------------------------------------------------------------------


def settle_reminders(event: Event) -> None:
    """Telegram's reaction to a completion or a skip (one, or a pause's batch): their reminders
    say "done" or "skipped", unsent ones are given up (same transaction)."""
    if (probe := change_probe(event)) and not probe.reminded:
        return
    outcome = OutboxKind.SKIPPED if event.type == INSTANCE_SKIPPED else OutboxKind.DONE
    reminders_settle(instance_ids=event.facts["ids"], outcome=outcome)


def owe_cue_reminders(event: Event) -> None:
    """Habits stacked on a completed one: their open instance that day is reminded at the
    completion + the habit's cue delay (an outbox row, with the change)."""
    if (probe := change_probe(event)) and not probe.stacked:
        return
    cue_reminders_owe(instance_ids=event.facts["ids"])


def tell_program_finished(event: Event) -> None:
    """The bound owner is owed the course's result ("19 of 21 done"), with the change."""
    facts = event.facts
    program_finished_owe(
        habit_id=facts["habit_id"], user_id=facts["user_id"], done=facts["done"],
        limit=facts["limit"],
    )  # fmt: skip


def decide_messages(event: Event) -> None:
    """Instances the sweep moved to pending or missed, or born already under way (a habit
    created after its time), are owed their messages now rather than at beat's next run of
    the task (which makes up for one lost with the broker)."""
    if event.facts.get("swept") or event.facts.get("under_way"):
        telegram_tasks.decide_notifications.delay()


def send_binding(event: Event) -> None:
    """The owner's sockets hear of the committed binding (bound: its username)."""
    user_id = event.facts["user_id"]
    if event.type == TELEGRAM_UNBOUND:
        broadcast(user_id=user_id, type=event.type, data={})
    elif (username := bound_username(user_id=user_id)) is not None:
        # None: unbound again by now, and its own `telegram.unbound` follows.
        broadcast(user_id=user_id, type=event.type, data={"username": username})


def wake_bot(event: Event) -> None:
    poke_bot()


# --- transfer ---------------------------------------------------------------------------------


def run_import(event: Event) -> None:
    """The stored upload goes to a worker (the job row exists by now: committed)."""
    transfer_tasks.run_import.delay(event.facts["job_id"])


def send_import_progress(event: Event) -> None:
    """Recorded with `record_now` from inside the import's transaction: the numbers are in the
    facts, nothing is read from the database."""
    facts = event.facts
    broadcast(
        user_id=facts["user_id"], type=IMPORT_PROGRESS,
        data={"id": facts["job_id"], "done": facts["done"], "total": facts["total"]},
    )  # fmt: skip


def refresh_imported_stats(event: Event) -> None:
    """Years of days arrived at once: the habits' cached stats go, and are recomputed."""
    user_id = event.facts["user_id"]
    if event.facts["habit_ids"]:
        _refresh_stats(dict.fromkeys(event.facts["habit_ids"], user_id))


# What `import.finished` tells of the committed job (the client then reloads its lists).
IMPORT_FRAME_FIELDS = (
    "id", "status", "format", "habits_created", "habits_merged", "instances_created",
    "days_existing", "error",
)  # fmt: skip


def send_import_finished(event: Event) -> None:
    facts = event.facts
    job = ImportJob.objects.filter(pk=facts["job_id"]).values(*IMPORT_FRAME_FIELDS).first()
    if job is not None:
        broadcast(user_id=facts["user_id"], type=IMPORT_FINISHED, data=job)


# --- webhooks --------------------------------------------------------------------------------


def _frame_data(frame: str, event: Event, users: Iterable[int]) -> dict[int, list[dict]]:
    """`{user_id: [data]}`: what the socket frames of this event carry, read in the change's
    transaction (so the body is fixed with the change, whatever comes after)."""
    facts = event.facts
    if frame in (INSTANCE_CREATED, INSTANCE_UPDATED):
        return instances_data(ids=list(facts["ids"]), user_ids=users)
    user_id = facts["user_id"]
    data: dict | None
    if frame in (HABIT_CREATED, HABIT_UPDATED, HABIT_DELETED):
        data = habit_data(type=frame, habit_id=facts["habit_id"])
    elif frame in (PAUSE_CREATED, PAUSE_UPDATED, PAUSE_DELETED):
        data = pause_data(type=frame, pause_id=facts["pause_id"])
    elif frame == TELEGRAM_BOUND:
        username = bound_username(user_id=user_id)
        data = None if username is None else {"username": username}
    elif frame == TELEGRAM_UNBOUND:
        data = {}
    else:
        data = webhook_disabled_data(webhook_id=facts["webhook_id"])
    return {} if data is None else {user_id: [data]}


def owe_webhooks(event: Event) -> None:
    """The owners' hooks subscribed to the event's frame type are owed a delivery each, in
    the change's transaction (an outbox row: sent by a worker after the commit). A single
    instance's change whose owner has no hook reads nothing more than its probe; otherwise
    one read for the subscribers, then the frames' data (read, unless the change gave it)
    and one insert."""
    if (probe := change_probe(event)) and not probe.hooked:
        return
    frame = FRAME_OF[event.type]
    facts = event.facts
    if "data" in facts:  # the change's own rows: the insert finds the subscribers itself
        deliveries_owe(event=frame, data_by_user=facts["data"])
        return
    subscribers = subscribers_of(
        user_ids=facts["user_ids"] if "user_ids" in facts else [facts["user_id"]], event=frame
    )
    if subscribers:
        deliveries_owe(event=frame, data_by_user=_frame_data(frame, event, subscribers))


def tell_webhook_disabled(event: Event) -> None:
    """The bound owner is owed a Telegram notice that a hook went off, with the change."""
    data = webhook_disabled_data(webhook_id=event.facts["webhook_id"])
    if data is not None:
        text = f"⚠️ Your webhook to {data['url']} was switched off: {data['reason']}"
        notice_owe(user_id=event.facts["user_id"], text=text + " Turn it on again in your profile.")


def send_webhooks(event: Event) -> None:
    webhooks_tasks.send_ask(event.facts["hook_ids"])


def send_webhook_disabled(event: Event) -> None:
    """The owner's sockets hear their hook went off (the dashboard shows a notice)."""
    data = webhook_disabled_data(webhook_id=event.facts["webhook_id"])
    if data is not None:
        broadcast(user_id=event.facts["user_id"], type=event.type, data=data)


WITHIN: dict[str, tuple[Reaction, ...]] = {
    # Also before the commit: the same transaction, or a test that never commits, reads anew.
    # The user's own caches too: no row lock of a hot path is held by these.
    USER_TOKENS_ENDED: (forget_token_state, forget_public_feed),
    PERSONAL_TOKEN_REVOKED: (forget_personal_token,),
    USER_TIMEZONE_CHANGED: (forget_token_state, forget_me, replan_instances),
    USER_CHANGED: (forget_token_state, forget_me, forget_public_feed),
    # owe_webhooks comes last: the rows as the change (and its other reactions) left them.
    HABIT_CREATED: (plan_new_habit, owe_webhooks),
    HABIT_UPDATED: (replan_habit, owe_webhooks),
    HABIT_DELETED: (owe_webhooks,),
    INSTANCE_CREATED: (owe_webhooks,),
    INSTANCE_UPDATED: (refit_courses, settle_programs, owe_webhooks),
    INSTANCE_COMPLETED: (settle_reminders, owe_cue_reminders, settle_programs, owe_webhooks),
    # The course stretches (or shrinks back) before it is settled: a skipped last occurrence
    # finishes nothing.
    INSTANCE_SKIPPED: (settle_reminders, refit_courses, settle_programs, owe_webhooks),
    INSTANCE_DELETED: (settle_programs,),
    PROGRAM_FINISHED: (tell_program_finished, owe_webhooks),
    PAUSE_CREATED: (owe_webhooks,),
    PAUSE_UPDATED: (owe_webhooks,),
    PAUSE_DELETED: (owe_webhooks,),
    TELEGRAM_BOUND: (owe_webhooks,),
    TELEGRAM_UNBOUND: (owe_webhooks,),
    WEBHOOK_DISABLED: (tell_webhook_disabled, owe_webhooks),
}

# What follows any change of instances, in this order: the caches that show them go (in one
# round trip), then the frames tell the owners, then their stats are recomputed (after the frames).
INSTANCES_CHANGED: tuple[Reaction, ...] = (
    forget_instance_caches,
    send_instances,
    refresh_instance_stats,
)

AFTER_COMMIT: dict[str, tuple[Reaction, ...]] = {
    USER_TOKENS_ENDED: (forget_token_state, forget_public_feed, revoke_sockets),
    PERSONAL_TOKEN_REVOKED: (forget_personal_token, close_token_sockets),
    USER_TIMEZONE_CHANGED: (forget_token_state, forget_me, forget_habit_lists, send_today),
    USER_CHANGED: (forget_token_state, forget_me, forget_public_feed),
    HABIT_CREATED: (forget_today, forget_habit_lists, forget_public_feed, send_habit),
    HABIT_UPDATED: (
        forget_today,
        forget_habit_lists,
        forget_public_feed,
        send_habit,
        refresh_habit_stats,
    ),
    HABIT_DELETED: (
        forget_today,
        forget_habit_lists,
        forget_public_feed,
        send_habit,
        drop_habit_stats,
    ),
    INSTANCE_CREATED: (*INSTANCES_CHANGED, decide_messages),
    INSTANCE_UPDATED: (*INSTANCES_CHANGED, decide_messages),
    INSTANCE_COMPLETED: INSTANCES_CHANGED,
    INSTANCE_SKIPPED: INSTANCES_CHANGED,
    INSTANCE_DELETED: (forget_today, forget_habit_lists, refresh_deleted_stats),
    PAUSE_CREATED: (send_pause,),
    PAUSE_UPDATED: (send_pause,),
    PAUSE_DELETED: (send_pause,),
    # The Telegram message left with the change (WITHIN, then `outbox.ready` wakes the bot).
    PROGRAM_FINISHED: (forget_habit_lists, send_finished_habit),
    # Nothing cached shows a binding (UserOut has no Telegram field): the frame alone.
    TELEGRAM_BOUND: (send_binding,),
    TELEGRAM_UNBOUND: (send_binding,),
    OUTBOX_READY: (wake_bot,),
    IMPORT_QUEUED: (run_import,),
    IMPORT_PROGRESS: (send_import_progress,),
    # Caches first, then the frame that tells the client to reload.
    IMPORT_FINISHED: (
        forget_today,
        forget_habit_lists,
        forget_public_feed,
        refresh_imported_stats,
        send_import_finished,
    ),
    WEBHOOK_OWED: (send_webhooks,),
    WEBHOOK_DISABLED: (send_webhook_disabled,),
}
