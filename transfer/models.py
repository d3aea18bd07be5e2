"""An import (SPEC §9): the uploaded file, kept in the database until the worker has read it,
and what came of it."""

from django.conf import settings
from django.db import models
from django.db.models import Q

# The largest file an import takes (a larger upload is answered 413).
IMPORT_MAX_BYTES = 20 * 1024 * 1024
ERROR_MAX_LENGTH = 1_000


class ImportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


# An import not yet over: at most one per user (the partial unique index below).
UNDER_WAY = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportJob(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    # The detected format's name, once read ("loop-csv", "atomic-habits", ...).
    format = models.CharField(max_length=32, blank=True, default="")
    # The file itself: the worker reads it from here (no shared disk between web and worker).
    # Emptied once the import is over, so finished jobs do not keep megabytes each.
    data = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    habits_created = models.PositiveIntegerField(default=0)
    # Days added to habits the account already had (merged by name).
    habits_merged = models.PositiveIntegerField(default=0)
    instances_created = models.PositiveIntegerField(default=0)
    # Days of the file the account had already (the same file twice, or a merge).
    days_existing = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=ERROR_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=UNDER_WAY),
                name="import_one_under_way_per_user",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="import_status_known"
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="import_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.user_id}: {self.status}"
