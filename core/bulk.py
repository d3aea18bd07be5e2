"""Many rows written in one statement, at the database's speed rather than the ORM's.

Django's `bulk_update` writes `SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END`:
PostgreSQL tests every branch for every row, so a thousand rows cost a million comparisons
(450 ms of a 500 ms reminder tick, docs/PERFORMANCE.md). And `bulk_create` builds a model
and prepares each of its fields for every row (about 100 µs a row: seconds for an import of
50,000 days). On PostgreSQL both travel instead as one typed array per column, joined by
`unnest`; other databases (SQLite, the embedded default) keep the ORM's way.
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone


def arrays() -> bool:
    """Whether this database takes a column's values as one typed array (PostgreSQL's
    `unnest` and `= ANY`); the others take the portable way. The one switch of this module
    and of the writers built beside it (transfer/importing.py), so a test can run either
    path on PostgreSQL without pretending the whole connection is another database."""
    return connection.vendor == "postgresql"


def among(column: str, ids: Collection[int]) -> tuple[str, list[Any]]:
    """`column IN ids` as SQL text and its parameters, for thousands of ids (a sweep batch's
    owners or habits): one array parameter on PostgreSQL, where the ORM's `__in` prepares
    each value and psycopg parses a placeholder per id (about 20 µs an id, ms a batch);
    placeholders elsewhere. `ids` must not be empty."""
    if arrays():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _array(field: Field) -> str:
    return f"%s::{field.db_type(connection)}[]"


def column_set(model: type[Model], field_name: str, values: Mapping[int, Any]) -> None:
    """`UPDATE model SET field = values[id] WHERE id IN values` (no signals, no auto_now)."""
    if not values:
        return
    if not arrays():
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


def _constant(field: Field, now: Any) -> Any:
    """What a row not naming `field` holds: `auto_now(_add)` is now, else the default."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def rows_insert(
    model: type[Model], field_names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert `rows` (values in `field_names` order; every other field takes its default),
    skipping those a unique constraint refuses (`ON CONFLICT DO NOTHING`). Returns how many
    were inserted where the database tells (PostgreSQL), else how many were offered."""
    if not rows:
        return 0
    if not arrays():
        objects = [model(**dict(zip(field_names, row, strict=True))) for row in rows]
        return len(model._default_manager.bulk_create(objects, ignore_conflicts=True))
    given = [model._meta.get_field(name) for name in field_names]
    rest = [
        f
        for f in model._meta.concrete_fields
        if f not in given and not f.primary_key and not f.null
    ]
    now = timezone.now()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [*given, *rest])
    unnested = ", ".join(_array(f) for f in given)
    constants = "".join(f", %s::{f.db_type(connection)}" for f in rest)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
        f"SELECT v.*{constants} FROM unnest({unnested}) AS v ON CONFLICT DO NOTHING"
    )
    # In the statement's order: the constants of the SELECT list, then the FROM's arrays.
    params: list[Any] = [f.get_db_prep_save(_constant(f, now), connection) for f in rest]
    params += [
        [f.get_db_prep_save(row[i], connection) for row in rows] for i, f in enumerate(given)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
