from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from transfer.models import ImportJob
from transfer.services import imports_give_up


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: imports are made by uploads and run by the worker."""

    list_display = (
        "id", "user", "status", "format", "size", "habits_created", "instances_created",
        "created_at", "finished_at",
    )  # fmt: skip
    list_filter = ("status", "format")
    search_fields = ("user__email", "sha256")
    raw_id_fields = ("user",)
    list_select_related = ("user",)
    exclude = ("data",)
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "data"]
    actions = ("give_up",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return super().get_queryset(request).defer("data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Give up the selected stuck imports (queued or running)")
    def give_up(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        ended = imports_give_up(job_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{ended} import(s) given up.", messages.SUCCESS)
