from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from instances import events
from instances.models import GeneratedDay, HabitInstance


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

    # A deletion reaches the owner's `today` list and the habit's stats like any change.
    def delete_model(self, request: HttpRequest, obj: HabitInstance) -> None:
        owners = {obj.habit_id: obj.user_id}
        super().delete_model(request, obj)
        events.instances_deleted_on_commit(owners)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HabitInstance]) -> None:
        owners = dict(queryset.values_list("habit_id", "user_id"))
        super().delete_queryset(request, queryset)
        events.instances_deleted_on_commit(owners)


@admin.register(GeneratedDay)
class GeneratedDayAdmin(admin.ModelAdmin):
    list_display = ("timezone", "date", "generated_at")
    list_filter = ("date",)
    search_fields = ("timezone",)
