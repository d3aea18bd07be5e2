from django.db.models import QuerySet

from accounts.models import User
from habits.models import Habit


def habit_list_for(
    *, user: User, is_active: bool | None = None, is_pleasant: bool | None = None
) -> QuerySet[Habit]:
    """The user's own habits, newest first, optionally filtered."""
    habits = Habit.objects.filter(user=user)
    if is_active is not None:
        habits = habits.filter(is_active=is_active)
    if is_pleasant is not None:
        habits = habits.filter(is_pleasant=is_pleasant)
    return habits.order_by("-id")


def habit_list_public() -> QuerySet[Habit]:
    # A deactivated user's habits leave the feed with them (and come back on re-activation).
    return Habit.objects.filter(is_public=True, user__is_active=True).order_by("-id")


def habits_rewarded_by(habit: Habit) -> QuerySet[Habit]:
    """The habits that name `habit` as their pleasant reward."""
    return Habit.objects.filter(related_pleasant_habit=habit).order_by("id")
