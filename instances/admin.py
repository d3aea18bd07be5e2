from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from instances.models import GeneratedDay, HabitInstance
from instances.services import instances_delete


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
