"""The events webhook services record (`core.events.record`), and the event types a hook may
subscribe to; config/reactions.py says what follows each."""

from habits.events import HABIT_CREATED, HABIT_DELETED, HABIT_UPDATED
from instances.events import (
    INSTANCE_CREATED,
    INSTANCE_UPDATED,
    PAUSE_CREATED,
    PAUSE_DELETED,
    PAUSE_UPDATED,
)

# Deliveries were written (facts: `hook_ids`): the worker sends them after the commit.
WEBHOOK_OWED = "webhook.owed"
# A hook failed WEBHOOK_DISABLE_AFTER deliveries in a row and was switched off. Facts:
# webhook_id, user_id. A frame of its own (`{id, url, reason}`).
WEBHOOK_DISABLED = "webhook.disabled"

# What a hook subscribes to: the socket's frame types that tell of a change (docs/API.md),
# with the same `data`. Not the connection's own frames (hello, today.snapshot, pong, error)
# nor `stats.updated`, a recomputation sent only to users with a socket open.
# telegram.bound/unbound are spelt out: telegram sits beside webhooks and is not imported.
EVENT_TYPES = (
    INSTANCE_CREATED, INSTANCE_UPDATED, HABIT_CREATED, HABIT_UPDATED, HABIT_DELETED,
    PAUSE_CREATED, PAUSE_UPDATED, PAUSE_DELETED, "telegram.bound", "telegram.unbound",
    WEBHOOK_DISABLED,
)  # fmt: skip
