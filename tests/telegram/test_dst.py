"""RELIABILITY D4, the reminder half: on the DST-end day the local 02:30 happens twice, and
the habit gets one instance and one reminder, at the first 02:30."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from instances.services import instances_generate, instances_sweep
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.services import notifications_decide
from tests.factories import HabitFactory, UserFactory

pytestmark = pytest.mark.django_db

FIRST_0230 = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST
SECOND_0230 = datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET, the same hour again


def test_the_dst_end_day_0230_gets_one_reminder_at_the_first_0230():
    berlin = UserFactory(timezone="Europe/Berlin")
    TelegramProfile.objects.create(user=berlin, telegram_id=2002, access_hash=1)
    habit = HabitFactory(user=berlin, time_of_day=time(2, 30), start_date=date(2025, 10, 26))
    instances_generate(now=datetime(2025, 10, 25, 12, 0, tzinfo=UTC))
    minute = timedelta(minutes=1)

    for now in (
        FIRST_0230 - minute,
        FIRST_0230,
        FIRST_0230 + minute,
        SECOND_0230,
        SECOND_0230 + minute,
    ):
        instances_sweep(now=now)
        notifications_decide(now=now)

    reminders = OutboxMessage.objects.filter(kind=OutboxKind.REMINDER, instance__habit=habit)
    assert reminders.count() == 1
    assert reminders.get().instance.scheduled_at == FIRST_0230
