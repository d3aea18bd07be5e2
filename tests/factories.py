import datetime
from typing import Any

import factory
from django.utils import timezone

from accounts.models import User
from habits.models import Habit
from instances.models import DONE_STATUSES, HabitInstance, SkipReason, Status

DEFAULT_PASSWORD = "a-long-enough-passphrase"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    timezone = "UTC"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", DEFAULT_PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class HabitFactory(factory.django.DjangoModelFactory):
    """A useful habit with a text reward, starting today (UTC), active, private."""

    class Meta:
        model = Habit

    user = factory.SubFactory(UserFactory)
    action = factory.Sequence(lambda n: f"habit {n}")
    place = "home"
    time_of_day = datetime.time(8, 0)
    is_pleasant = False
    reward_text = "a cup of tea"
    periodicity_days = 1
    repeat_limit = 21
    start_date = factory.LazyFunction(lambda: timezone.now().date())
    # Planned from before its first day: any day of its course may be generated (generation
    # never makes an occurrence over before the plan began). One made through the API is
    # planned from its making, as a user's is.
    planned_from = factory.LazyAttribute(
        lambda habit: min(
            timezone.now(),
            datetime.datetime.combine(habit.start_date, datetime.time(), datetime.UTC)
            - datetime.timedelta(days=2),
        )
    )


class PleasantHabitFactory(HabitFactory):
    is_pleasant = True
    reward_text = None


def make_instance(
    habit: Habit, on: datetime.date, at: datetime.datetime, **fields: Any
) -> HabitInstance:
    """An instance of `habit` on local date `on` at instant `at`, with the habit's windows.

    A done one is done at `at` and a skipped one skipped as `sick`, unless `fields` say
    otherwise (the database holds both rules)."""
    grace = at + datetime.timedelta(minutes=habit.grace_minutes)
    status = fields.get("status")
    if status in DONE_STATUSES:
        fields.setdefault("completed_at", at)
    elif status == Status.SKIPPED:
        fields.setdefault("skip_reason", SkipReason.SICK)
    return HabitInstance.objects.create(
        habit=habit,
        user_id=habit.user_id,
        date=on,
        scheduled_at=at,
        grace_deadline=grace,
        fix_deadline=grace + datetime.timedelta(minutes=habit.fix_minutes),
        **fields,
    )
