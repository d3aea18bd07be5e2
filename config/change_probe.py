"""One read for the reactions of a single instance's change (a completion, a skip, an un-skip,
a note: `instance_change_record`), instead of one read each.

Nearly every completion has nothing to do for most of its reactions: no reminder was sent
for it, nothing is stacked on its habit, its owner has no webhook, its course is far from
over. Each reaction used to find that out with a query of its own (four round trips, each
built by the ORM anew); the probe asks the four questions in one statement, made of each
app's own fragment of SQL (the rule lives with the app that acts on it), and a reaction whose
answer is no does nothing. One whose answer is yes runs as before, reading what it needs.

The probe runs inside the change's transaction, after its write and under its locks (the
instance, and the habit when the course may move), at the first reaction that asks.
"""

from dataclasses import dataclass

from core.events import Event
from core.prepared import prepared_cursor
from habits.models import Habit
from instances.services.program import COURSE_MAY_SETTLE_SQL
from telegram.selectors import REMINDED_SQL, STACKED_SQL
from webhooks.selectors import HOOKED_SQL


@dataclass(frozen=True)
class ChangeProbe:
    reminded: bool  # the instance has reminders (telegram: say "done" / give them up)
    stacked: bool  # a habit is stacked on its habit (telegram: a cue reminder)
    hooked: bool  # its owner has an enabled webhook (webhooks: deliveries)
    course_may_settle: bool  # its habit's course may have finished or reopened


PROBE_SQL = (
    f"SELECT {REMINDED_SQL}, {STACKED_SQL}, {HOOKED_SQL}, "  # noqa: S608 (the apps' fragments)
    f"EXISTS (SELECT 1 FROM {Habit._meta.db_table} h "
    f"WHERE h.id = %(habit)s AND {COURSE_MAY_SETTLE_SQL})"
)


def change_probe(event: Event) -> ChangeProbe | None:
    """The answers for this event, read at the first call and kept on it; None for an event
    that is not a single instance's change (its reactions read as they always did)."""
    facts = event.facts
    if "settling" not in facts:
        return None
    if "probe" not in event.memo:
        [(habit_id, user_id)] = facts["owners"].items()
        params = {"instance": facts["ids"][0], "habit": habit_id, "user": user_id}
        with prepared_cursor() as cursor:  # planned once per connection: its plan cost most
            cursor.execute(PROBE_SQL, params)
            row = cursor.fetchone()
        event.memo["probe"] = ChangeProbe(*(bool(answer) for answer in row))
    return event.memo["probe"]
