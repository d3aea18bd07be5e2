"""Fan-out a worker does beside the change that caused it: a big batch's frames, and the
stats of changed habits (computed off the response path of the request that changed them)."""

from celery import shared_task

from core.tasks import RETRY_POLICY
from realtime.frames import instances_announce, stats_announce


@shared_task(name="realtime.announce", **RETRY_POLICY)
def announce_instances(type: str, ids: list[int]) -> None:
    """Send the frames of a big batch of changed instances (after the change committed)."""
    instances_announce(type=type, ids=ids)


@shared_task(name="realtime.stats", **RETRY_POLICY)
def announce_stats(rows: list[tuple[int, int, int]]) -> None:
    """`stats.updated` for `(habit_id, user_id, version)` rows: the habits' cached stats were
    dropped after the commit; these are recomputed, cached if still current, and sent."""
    stats_announce(
        owners={habit_id: user_id for habit_id, user_id, _ in rows},
        versions={habit_id: version for habit_id, _, version in rows},
    )
