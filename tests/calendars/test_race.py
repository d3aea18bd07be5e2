"""Presses at once: every new secret is written in one upsert, so racing ones leave one row
and one working URL, the last written."""

import pytest

from calendars.models import CalendarFeed
from calendars.selectors import feed_owner
from calendars.services import feed_renew
from tests.concurrency import raised, run_together
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_subscriptions_leave_one_feed_whose_secret_is_one_of_theirs():
    user = UserFactory()

    results = run_together(*[lambda: feed_renew(user=user)] * 4)

    assert raised(results) == []
    assert len(set(results)) == 4
    assert CalendarFeed.objects.filter(user=user).count() == 1
    working = [secret for secret in results if feed_owner(secret) is not None]
    assert len(working) == 1
    assert feed_owner(working[0]) == user
