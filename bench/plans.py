"""EXPLAIN (ANALYZE) of the statements production code runs, and a summary of their scans."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench import sql

# "Seq Scan on t", "Index Scan [Backward] using i on t", "Bitmap Index Scan on i", ...
SCAN = re.compile(
    r"(?P<kind>Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)?"
    r"(?: using (?P<index>\S+))? on (?P<target>\S+).*?rows=(?P<estimated>\d+)"
    r"(?:.*?actual time=\S+ rows=(?P<actual>\d+))?"
)


@dataclass(frozen=True)
class Scan:
    kind: str
    name: str  # the index read, or the table for a sequential scan
    estimated: int
    actual: int


def statements_of(call: Callable[[], object], *, keep: Callable[[str], bool]) -> list[str]:
    """The SQL `call` runs that `keep` selects, captured in a transaction rolled back."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            call()
        transaction.set_rollback(True)
    return [query["sql"] for query in queries.captured_queries if keep(query["sql"])]


def explain(statements: list[str]) -> list[list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement, in one transaction rolled back."""
    with transaction.atomic():
        plans = [
            [line for (line,) in sql.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")]
            for statement in statements
        ]
        transaction.set_rollback(True)
    return plans


def scans(plan: list[str]) -> list[Scan]:
    found = []
    for line in plan:
        if match := SCAN.search(line):
            name = match["index"] or match["target"]
            found.append(
                Scan(match["kind"], name, int(match["estimated"]), int(match["actual"] or 0))
            )
    return found


def summary(found: list[Scan]) -> str:
    """ "Index Scan: a, b; Seq Scan: t": the scans grouped by kind, in plan order."""
    grouped: dict[str, list[str]] = {}
    for scan in found:
        grouped.setdefault(scan.kind, []).append(scan.name)
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in grouped.items())


def as_note(title: str, statements: list[str], plans: list[list[str]]) -> str:
    parts = [f"{title}:", ""]
    for statement, plan in zip(statements, plans, strict=True):
        parts += ["```", statement, "", *plan, "```", ""]
    return "\n".join(parts).rstrip()
