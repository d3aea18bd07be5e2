"""One column set to a different value on each of many rows, in one statement.

Django's `bulk_update` writes `SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END`:
PostgreSQL tests every branch for every row, so a thousand rows cost a million comparisons
(450 ms of a 500 ms reminder tick, docs/PERFORMANCE.md). On PostgreSQL the values travel
instead as two typed arrays joined by `unnest`; other databases (SQLite, the embedded
default, holds one installation's handful of rows) keep `bulk_update`.
"""

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def _array(field: Field) -> str:
    return f"%s::{field.db_type(connection)}[]"


def column_set(model: type[Model], field_name: str, values: Mapping[int, Any]) -> None:
    """`UPDATE model SET field = values[id] WHERE id IN values` (no signals, no auto_now)."""
    if not values:
        return
    if connection.vendor != "postgresql":
        rows = [model(pk=pk, **{field_name: value}) for pk, value in values.items()]
        model._default_manager.bulk_update(rows, [field_name])
        return
    field = model._meta.get_field(field_name)
    pk = model._meta.pk
    quote = connection.ops.quote_name
    table, column, key = quote(model._meta.db_table), quote(field.column), quote(pk.column)
    sql = (
        f"UPDATE {table} AS t SET {column} = v.value "  # noqa: S608 (names from the model)
        f"FROM unnest({_array(pk)}, {_array(field)}) AS v(key, value) WHERE t.{key} = v.key"
    )
    prepared = [field.get_db_prep_save(v, connection) for v in values.values()]
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(values), prepared])
