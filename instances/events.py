"""The events instance services record (`core.events.record`); config/reactions.py says what
follows each, realtime/frames.py builds their frames from the committed rows.

Facts of each: `ids` (the instances to announce; may be fewer than changed, e.g. only those
of users online) and `user_ids` (the owners of every changed instance, whose `today` lists
go stale). A single instance's change (completed, skipped, back from a skip, a note) adds
`owners` ({habit_id: user_id}), `data` ({user_id: [frame data]}) and `settling` (habit ids
locked for the course check): instances/services/recorded.py.
"""

INSTANCE_CREATED = "instance.created"  # also `under_way`: some are due already
INSTANCE_UPDATED = "instance.updated"  # also `swept` (the sweep moved them: messages follow)
# and `expired` (which of them it made fix_expired)
# Done (web, bot or API). Not a frame of its own: the owner sees `instance.updated`.
INSTANCE_COMPLETED = "instance.completed"
# Deleted by hand (the admin). Facts: `owners` {habit_id: user_id}. No frame.
INSTANCE_DELETED = "instance.deleted"
# Set aside (a skip, or a pause covering them). Seen as `instance.updated`; Telegram's
# reminders of them say "skipped" (same transaction).
INSTANCE_SKIPPED = "instance.skipped"
# Facts of each: pause_id, user_id. Frames of their own (`pause.deleted`: `{id}`).
PAUSE_CREATED = "pause.created"
PAUSE_UPDATED = "pause.updated"  # ended early
PAUSE_DELETED = "pause.deleted"
# A habit's course is over: its last counted occurrence resolved (SPEC §7). Facts: habit_id,
# user_id, done, limit. The owner sees `habit.updated` (its `program.finished` is true), and
# Telegram sends the result ("19 of 21 done").
PROGRAM_FINISHED = "program.finished"
