from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import InvalidInput
from instances.models import GeneratedDay, HabitInstance, Pause
from instances.services import instances_delete, pause_check, pause_create, pause_delete


@admin.register(HabitInstance)
class HabitInstanceAdmin(admin.ModelAdmin):
    """Read-mostly: statuses change through the clock and completions, not by hand."""

    list_display = (
        "id",
        "habit",
        "user",
        "date",
        "scheduled_at",
        "status",
        "completed_at",
        "source",
    )
    list_filter = ("status", "source", "date")
    search_fields = ("habit__action", "user__email")
    raw_id_fields = ("habit", "user")
    list_select_related = ("habit", "user")
    date_hierarchy = "date"
    readonly_fields = [f.name for f in HabitInstance._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    # Deleted through the service: the owner's `today` list and the habit's stats follow.
    def delete_model(self, request: HttpRequest, obj: HabitInstance) -> None:
        instances_delete(instances=HabitInstance.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HabitInstance]) -> None:
        instances_delete(instances=queryset)


@admin.register(GeneratedDay)
class GeneratedDayAdmin(admin.ModelAdmin):
    list_display = ("timezone", "date", "generated_at")
    list_filter = ("date",)
    search_fields = ("timezone",)


class PauseAdminForm(forms.ModelForm):
    """The service's checks (the length, a habit of the owner's) as form errors: found only
    in `save_model`, they would be a 500."""

    class Meta:
        model = Pause
        fields = "__all__"  # noqa: DJ007 -- the admin shows every editable field

    # The API's field names, to the admin's.
    FIELDS = {"habit_id": "habit", "start_date": "start_date", "end_date": "end_date"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user, start, end = (cleaned.get(f) for f in ("user", "start_date", "end_date"))
        if user is None or start is None or end is None:
            return cleaned  # the field's own error is shown
        habit = cleaned.get("habit")
        try:
            pause_check(
                user=user, start_date=start, end_date=end, habit_id=habit.pk if habit else None
            )
        except InvalidInput as invalid:
            for problem in invalid.problems:
                self.add_error(self.FIELDS.get(problem.field), problem.msg)
        return cleaned


@admin.register(Pause)
class PauseAdmin(admin.ModelAdmin):
    """Added and deleted through the services (the instances follow, the owner's sockets
    hear of it); a pause is not edited in place: delete it and add another."""

    form = PauseAdminForm

    list_display = ("id", "user", "habit", "start_date", "end_date", "reason", "created_at")
    list_filter = ("reason",)
    search_fields = ("user__email", "habit__action")
    raw_id_fields = ("user", "habit")
    list_select_related = ("user", "habit")
    date_hierarchy = "start_date"

    def has_change_permission(self, request: HttpRequest, obj: Pause | None = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def save_model(self, request: HttpRequest, obj: Pause, form: object, change: bool) -> None:
        created = pause_create(
            user=obj.user, start_date=obj.start_date, end_date=obj.end_date,
            habit_id=obj.habit_id, reason=obj.reason,
        )  # fmt: skip
        obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Pause) -> None:
        pause_delete(pause_id=obj.pk, user=obj.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Pause]) -> None:
        for pause in queryset.select_related("user"):
            pause_delete(pause_id=pause.pk, user=pause.user)
