"""The events habit services record (`core.events.record`); config/reactions.py says what
follows each, realtime/frames.py builds their frames.

Facts of each: habit_id, user_id, `public` (the habit is or was in the public feed, whose
cached pages then go); `habit.updated` also `changed` (the names of the fields that
changed), so the instances can follow a schedule change in the same transaction.
"""

HABIT_CREATED = "habit.created"
HABIT_UPDATED = "habit.updated"
HABIT_DELETED = "habit.deleted"
