"""Notes (SPEC §8): the owner's words on one of their instances, whatever its status."""

from django.db import transaction

from core.errors import InvalidInput
from instances.events import INSTANCE_UPDATED
from instances.models import NOTE_MAX_LENGTH, HabitInstance
from instances.selectors import instance_locked
from instances.services.recorded import instance_change_record

TOO_LONG = "String should have at most {limit} characters"


def note_problem(note: str) -> str | None:
    """What is wrong with `note` as a note (after trimming), or None. The API's schema says
    the same first; the bot's replies reach only this."""
    if "\x00" in note:
        return "must not contain NUL characters"
    if len(note) > NOTE_MAX_LENGTH:
        return TOO_LONG.format(limit=NOTE_MAX_LENGTH)
    return None


@transaction.atomic
def instance_note(*, instance_id: int, user_id: int, note: str | None) -> HabitInstance:
    """Write the note of the user's instance, any status; None, "" or only blanks clear it.
    Leading and trailing blanks go. The same note again writes and records nothing.

    NotFound when the user has no such instance; InvalidInput naming `note` when it is longer
    than 1,000 characters (or holds a NUL), with nothing written. A change is recorded as
    `instance.updated`: the owner's sockets get the frame, the `today` list is forgotten.
    """
    text = (note or "").strip()
    if (problem := note_problem(text)) is not None:
        raise InvalidInput.field("note", problem)
    instance = instance_locked(instance_id=instance_id, user_id=user_id)
    if instance.note == text:
        return instance
    instance.note = text
    instance.save(update_fields=["note", "updated_at"])
    instance_change_record(INSTANCE_UPDATED, instance, settling=False)  # no course moves
    return instance
