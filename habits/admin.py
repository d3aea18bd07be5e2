from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import Conflict, InvalidInput
from habits.models import Habit
from habits.services import habit_cue_check, habit_delete, habit_reward_check, habit_save


class HabitAdminForm(forms.ModelForm):
    """The model's own rules (`Habit.clean`), and those they cannot see, asked of the
    services the API asks: a cue that would close a cycle, and a pleasant habit made useful
    while other habits have it as their reward."""

    class Meta:
        model = Habit
        fields = "__all__"  # noqa: DJ007 -- the admin shows every editable field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cue = cleaned.get("cue_habit")
        if cue is not None and self.instance.pk is not None:  # the owner is read-only then
            try:
                habit_cue_check(habit=self.instance, cue_id=cue.pk)
            except InvalidInput as exc:
                self.add_error("cue_habit", [problem.msg for problem in exc.problems])
        if self.instance.pk is not None and cleaned.get("is_pleasant") is False:
            try:
                habit_reward_check(habit=self.instance)
            except Conflict as exc:
                self.add_error("is_pleasant", exc.message)
        return cleaned


@admin.register(Habit)
class HabitAdmin(admin.ModelAdmin):
    form = HabitAdminForm
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

    def get_readonly_fields(self, request: HttpRequest, obj: Habit | None = None) -> tuple:
        # A habit keeps its owner: its instances, pauses, cue and reward are the owner's.
        return self.readonly_fields + (("user",) if obj is not None else ())

    # The admin goes through the services like every other door: its edits re-plan the
    # instances and reach the sockets, caches and stats the same way.
    def save_model(self, request: HttpRequest, obj: Habit, form: object, change: bool) -> None:
        habit_save(habit=obj)

    def delete_model(self, request: HttpRequest, obj: Habit) -> None:
        habit_delete(habit=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Habit]) -> None:
        for habit in queryset:
            habit_delete(habit=habit)
