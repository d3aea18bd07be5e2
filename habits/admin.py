from django.contrib import admin
from django.http import HttpRequest

from habits import events
from habits.models import Habit


@admin.register(Habit)
class HabitAdmin(admin.ModelAdmin):
    list_display = (
        "id", "action", "user", "time_of_day", "is_pleasant", "periodicity_days",
        "repeat_limit", "start_date", "is_public", "is_active",
    )  # fmt: skip
    list_filter = ("is_pleasant", "is_active", "is_public", "periodicity_days", "repeat_limit")
    search_fields = ("action", "place", "reward_text", "user__email")
    raw_id_fields = ("user", "related_pleasant_habit")
    list_select_related = ("user",)
    date_hierarchy = "start_date"
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Habit, form: object, change: bool) -> None:
        # The admin validated the form with the model's rules; its edits reach sockets too.
        super().save_model(request, obj, form, change)
        if change:
            events.habit_updated_on_commit(obj)
        else:
            events.habit_created_on_commit(obj)

    def delete_model(self, request: HttpRequest, obj: Habit) -> None:
        habit_id, user_id = obj.pk, obj.user_id
        super().delete_model(request, obj)
        events.habit_deleted_on_commit(habit_id=habit_id, user_id=user_id)

    def delete_queryset(self, request: HttpRequest, queryset: object) -> None:
        deleted = list(queryset.values_list("pk", "user_id"))
        super().delete_queryset(request, queryset)
        for habit_id, user_id in deleted:
            events.habit_deleted_on_commit(habit_id=habit_id, user_id=user_id)
