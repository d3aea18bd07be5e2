"""`prepared_cursor()`: a cursor whose statements PostgreSQL plans once per connection
(config/postgresql/base.py says why and how), for the SQL text the busiest requests run every
time. Elsewhere (SQLite, the embedded default) Django's usual cursor."""

from django.db import connection
from django.db.backends.utils import CursorWrapper


def prepared_cursor() -> CursorWrapper:
    make = getattr(connection, "prepared_cursor", None)
    return make() if make is not None else connection.cursor()
