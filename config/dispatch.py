"""The dispatcher `core.events.record` hands every event to (`settings.EVENT_DISPATCHER`):
it looks the event up in config/reactions.py and runs its reactions."""

import logging
from collections.abc import Sequence

from core.events import Event

logger = logging.getLogger(__name__)


class Dispatcher:
    def within(self, event: Event) -> None:
        """Inside the transaction: a failure rolls the change back, as a failed write would."""
        from config.reactions import WITHIN  # at first use: the apps import core at load

        for reaction in WITHIN.get(event.type, ()):
            reaction(event)

    def after_commit(self, events: Sequence[Event]) -> None:
        """After the commit, in recorded order. The change stands whatever happens here, so
        a reaction that fails (Redis or the broker away) is logged and the next one runs."""
        from config.reactions import AFTER_COMMIT

        for event in events:
            if event.type not in AFTER_COMMIT:  # tests/config/test_one_door.py forbids it
                logger.error("%s: recorded, but config/reactions.py has no row for it", event.type)
                continue
            for reaction in AFTER_COMMIT[event.type]:
                try:
                    reaction(event)
                except Exception:
                    logger.exception("%s: reaction %s failed", event.type, reaction.__name__)


dispatcher = Dispatcher()
