"""PostgreSQL as Django ships it, with two changes for the busiest requests.

**The health check of a connection in use.** With `CONN_HEALTH_CHECKS` Django asks a reused
connection `SELECT 1` before each request's first statement: a round trip to PostgreSQL that
was an eighth of a completion's time on a busy worker (docs/PERFORMANCE.md, "The write path,
round two"). A connection the server has ended (a restart, `pg_terminate_backend`, a proxy
resetting it) has said so on its socket: an error message, then the end of the stream, so
the socket is readable while no query is under way. A poll of the socket (no round trip)
tells the two apart: nothing to read, the connection is used as it is; something to read,
Django's `SELECT 1` decides and a dead connection is made anew, as before. A path that
silently drops packets answers neither check: both wait on the first statement (the
statement and connect timeouts bound it).

**Statements planned once** (`prepared_cursor`). Django binds parameters on the client, so
every statement reaches PostgreSQL as new text, parsed and planned anew. For most that costs
little; a single instance's change planned its locking read and its probe for longer than it
ran them (0.2 and 0.6 ms against 0.07 and 0.09). A cursor binding on the server (Django's own
class for its `server_side_binding` option) lets psycopg prepare a statement at its fifth run
on a connection, and PostgreSQL reuses the plan. Only the callers that ask for it get it: the
option for every statement would change how all of the project's SQL is typed. Django turns
psycopg's preparing off for connection poolers; here it is on (`prepare_threshold` 5, the
psycopg default) unless the database's OPTIONS set `prepare_threshold` (None turns it off: a
pooler in transaction mode older than PgBouncer 1.21 wants that).
"""

import select

from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from django.utils.asyncio import async_unsafe
from psycopg.pq import Format, TransactionStatus

# psycopg's default: a statement is prepared at its fifth run on a connection.
PREPARE_THRESHOLD = 5


class DatabaseWrapper(base.DatabaseWrapper):
    _preparing = False

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:
            params["prepare_threshold"] = PREPARE_THRESHOLD  # only prepared_cursor() prepares
        return params

    def close_if_health_check_failed(self) -> None:
        if self.health_check_enabled and not self.health_check_done and self._socket_quiet():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _socket_quiet(self) -> bool:
        """Idle, open, and nothing sent by the server since the last answer was read."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.pgconn.transaction_status != TransactionStatus.IDLE:
            return False
        poll = select.poll()  # not select(): a web worker's descriptors pass FD_SETSIZE
        poll.register(connection.fileno(), select.POLLIN)
        return not poll.poll(0)

    @async_unsafe
    def prepared_cursor(self) -> CursorWrapper:
        """A cursor like `cursor()` (the same checks, errors and query log) whose statements
        psycopg prepares from their fifth run on this connection: for SQL text run on every
        request, with `%s` / `%(name)s` placeholders PostgreSQL can type from their context."""
        self._preparing = True
        try:
            return self.cursor()
        finally:
            self._preparing = False

    def create_cursor(self, name: str | None = None) -> base.Database.Cursor:
        if name is not None or not self._preparing:
            return super().create_cursor(name)
        cursor = base.ServerBindingCursor(self.connection)
        # As Django's create_cursor: its time zone only where the connection's differs.
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
        if self.timezone != loader.timezone:
            base.register_tzloader(self.timezone, cursor)
        return cursor
