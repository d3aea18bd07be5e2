import uuid

from django.db import models


class Installation(models.Model):
    """This database's identity: one row, made by every `migrate` and `flush` that finds none
    (installation/apps.py), so a database made anew or emptied gets a new `key`. The
    installation's Redis namespace is derived from it (installation/identity.py)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    key = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="installation_one_row")
        ]

    def __str__(self) -> str:
        return f"installation {self.key}"
