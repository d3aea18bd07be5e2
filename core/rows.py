"""One row's fields written as SQL text, for the busiest single-row writes (a completion, a
skip): `Model.save(update_fields=...)` spent longer building its UPDATE than PostgreSQL took
to run it (docs/PERFORMANCE.md, "The write path, round two"). The statement is built once per
model and set of fields; each field prepares its value as the ORM would (`pre_save`, so an
`auto_now` field takes the time now; `get_db_prep_save`, so every backend gets its types).
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Model

from core.prepared import prepared_cursor


@cache
def _update_sql(model: type[Model], fields: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in fields)
    return (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model)
        f"WHERE {quote(meta.pk.column)} = %s"
    )


def row_save(instance: Model, fields: Sequence[str]) -> None:
    """`instance.save(update_fields=fields)` for a row the caller holds locked (so it exists):
    the same values written, without the ORM's compile and without signals (none of the
    models written this way has a receiver)."""
    meta = instance._meta
    values = []
    for name in fields:
        field = meta.get_field(name)
        values.append(field.get_db_prep_save(field.pre_save(instance, False), connection))
    with prepared_cursor() as cursor:
        cursor.execute(_update_sql(type(instance), tuple(fields)), [*values, instance.pk])


def model_fields_ordered(model: type[Model], names: Sequence[str]) -> tuple[str, ...]:
    """The attribute names of `names`' fields in the model's own order: the order
    `row_load` wants its values in (as `Model.from_db` does)."""
    wanted = {model._meta.get_field(name).attname for name in names}
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


@cache
def _converters(model: type[Model], names: tuple[str, ...], vendor: str) -> list[tuple]:
    """The backend's and the fields' value converters, by position (the ORM's own).

    Kept for the process: the backend's converters are methods of the first caller's
    connection (one a thread) and read only settings and their arguments, so they serve
    every thread's rows alike; `row_load` passes the caller's own connection to each."""
    found = []
    for position, name in enumerate(names):
        field = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((position, column, converters))
    return found


def row_load(model: type[Model], names: tuple[str, ...], values: Sequence) -> Model:
    """A model from a row read as SQL text: `values` of the fields `names` (attribute names,
    in `model_fields_ordered` order), converted as the ORM converts them (SQLite's dates come
    as text); the other fields load on first use, as with `only()`."""
    values = list(values)
    for position, column, converters in _converters(model, names, connection.vendor):
        for convert in converters:
            values[position] = convert(values[position], column, connection)
    return model.from_db(connection.alias, names, values)
