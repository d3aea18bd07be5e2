"""The instance state machine: generation, the habit lifecycle, completion and the deadline sweep.

Every transition is a conditional write (row lock or `WHERE status IN (...)`), so the web,
the bot and the sweep can race on one instance and exactly one of them changes it.

generate.py   the current and next local date, periodic and for some habits or users
lifecycle.py  instances follow a habit created, changed or deactivated, a timezone change
completion.py `instance_complete`
sweep.py      due instances move to the status the clock gives them
skip.py       an instance skipped by its owner, and back
notes.py      the owner's note on an instance
pauses.py     dates on which every habit, or one, is set aside
program.py    a finished course is marked, and told once
"""

from instances.services.completion import instance_complete
from instances.services.generate import (
    GENERATION_LOCK_KEY,
    KEEP_GENERATED_DAYS,
    instances_generate,
    instances_generate_for,
)
from instances.services.lifecycle import (
    instances_delete,
    instances_on_habit_changed,
    instances_on_habit_created,
    instances_on_timezone_changed,
    instances_shrink_courses,
    instances_stretch_courses,
)
from instances.services.notes import instance_note
from instances.services.pauses import pause_check, pause_create, pause_delete, pause_end
from instances.services.program import (
    programs_settle,
    programs_settle_after,
    programs_settle_expired,
    programs_settle_locked,
)
from instances.services.skip import instance_skip, instance_unskip
from instances.services.sweep import SWEEP_ARMS, SWEEP_BATCH, _sweep_batch, instances_sweep

__all__ = [
    "GENERATION_LOCK_KEY",
    "KEEP_GENERATED_DAYS",
    "SWEEP_ARMS",
    "SWEEP_BATCH",
    "_sweep_batch",
    "instance_complete",
    "instance_note",
    "instance_skip",
    "instance_unskip",
    "instances_delete",
    "instances_generate",
    "instances_generate_for",
    "instances_on_habit_changed",
    "instances_on_habit_created",
    "instances_on_timezone_changed",
    "instances_shrink_courses",
    "instances_stretch_courses",
    "instances_sweep",
    "pause_check",
    "pause_create",
    "pause_delete",
    "pause_end",
    "programs_settle",
    "programs_settle_after",
    "programs_settle_expired",
    "programs_settle_locked",
]
