from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import connections
from django.db.models.signals import post_migrate


def _ensure_the_row(sender: AppConfig, using: str, apps: Apps | None = None, **kwargs: Any) -> None:
    """After `migrate`, and after `flush` (which empties this table with the rest and sends
    the same signal), the database has its identity row: a new one, with a new key, if none."""
    try:
        installation = (apps or global_apps).get_model("installation", "Installation")
    except LookupError:  # migrated back to before the table
        return
    # `flush` sends no migration state: the table is there only if it was ever migrated.
    if apps is None and installation._meta.db_table not in _tables(using):
        return
    installation.objects.using(using).get_or_create(pk=1)


def _tables(using: str) -> list[str]:
    with connections[using].cursor() as cursor:
        return connections[using].introspection.table_names(cursor)


class InstallationConfig(AppConfig):
    name = "installation"
    verbose_name = "installation identity"

    def ready(self) -> None:
        post_migrate.connect(_ensure_the_row, sender=self)
