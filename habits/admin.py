from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from habits.models import Habit
from habits.services import habit_delete, habit_save


@admin.register(Habit)
class HabitAdmin(admin.ModelAdmin):
    list_display = (
        "id", "action", "user", "time_of_day", "is_pleasant", "periodicity_days",
        "repeat_limit", "start_date", "is_public", "is_active",
    )  # fmt: skip
    list_filter = ("is_pleasant", "is_active", "is_public", "periodicity_days", "repeat_limit")
    search_fields = ("action", "place", "reward_text", "user__email")
    raw_id_fields = ("user", "related_pleasant_habit", "cue_habit")
    list_select_related = ("user",)
    date_hierarchy = "start_date"
    readonly_fields = ("created_at", "updated_at")

    # The admin goes through the services like every other door: its edits re-plan the
    # instances and reach the sockets, caches and stats the same way.
    def save_model(self, request: HttpRequest, obj: Habit, form: object, change: bool) -> None:
        habit_save(habit=obj)

    def delete_model(self, request: HttpRequest, obj: Habit) -> None:
        habit_delete(habit=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Habit]) -> None:
        for habit in queryset:
            habit_delete(habit=habit)
