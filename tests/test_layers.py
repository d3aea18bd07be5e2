"""Imports run one way, from the ground up (docs/ARCHITECTURE.md, "The layers").

Every import in the production code of the apps below is read with `ast` (module level and
inside functions alike: a deferred import is still a dependency) and ranked by the app it
names. An import of a higher app, or of another app of the same rank, fails unless it is in
KNOWN_DEBT; a KNOWN_DEBT pair that no longer exists fails too, so the list only shrinks.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower is nearer the ground. installation sits between core and accounts: it imports only
# core and Django. telegram and realtime share a rank and must not import each other: each
# is a way out to the user, and config/reactions.py is the one place that drives both.
RANK: dict[str, float] = {
    "core": 0,
    "installation": 0.5,
    "accounts": 1,
    "habits": 2,
    "instances": 3,
    "telegram": 4,
    "realtime": 4,
    "dashboard": 5,
    "config": 6,
}

# Directories that are not production code of an app.
SKIPPED_PARTS = {"tests", "migrations", "bench"}

# (importing module, imported module): the upward imports that remain, each with why.
KNOWN_DEBT: dict[tuple[str, str], str] = {
    ("habits.api", "instances.models"): "a habit's page lists its instances",
    ("habits.api", "instances.schemas"): "a habit's page lists its instances",
    ("habits.api", "instances.selectors"): "a habit's page lists its instances",
    ("habits.services", "instances.services"): "a habit's save generates and re-plans them",
    ("habits.stats", "instances.models"): "stats count a habit's instances",
    ("habits.events", "realtime"): "frame builder; belongs in realtime/",
    ("habits.events", "realtime.broadcast"): "frame builder; belongs in realtime/",
    ("instances.events", "realtime"): "frame builder; belongs in realtime/",
    ("instances.events", "realtime.broadcast"): "frame builder; belongs in realtime/",
    (
        "instances.services.generate",
        "realtime",
    ): "the sweep announces only to users online (presence)",
    ("instances.tasks", "telegram.services"): "the sweep task decides notifications after it",
    ("telegram.events", "realtime.broadcast"): "frame builder (binding); belongs in realtime/",
}


def production_modules() -> Iterator[tuple[str, Path]]:
    """Yield (dotted module name, path) for every production module of the ranked apps."""
    for app in RANK:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if SKIPPED_PARTS & set(relative.parts):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imported_modules(module: str, path: Path) -> Iterator[str]:
    """Yield the absolute dotted names a module imports (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            else:
                yield node.module or ""


def app_of(module: str) -> str | None:
    """The ranked app a dotted name belongs to, or None for the standard library and others."""
    head = module.split(".")[0]
    return head if head in RANK else None


def cross_app_imports() -> set[tuple[str, str]]:
    """Every (module, imported module) pair that crosses from one ranked app to another."""
    pairs = set()
    for module, path in production_modules():
        for imported in imported_modules(module, path):
            target = app_of(imported)
            if target is not None and target != app_of(module):
                pairs.add((module, imported))
    return pairs


def is_upward(module: str, imported: str) -> bool:
    """Upward: to a higher app, or sideways to another app of the same rank."""
    return RANK[app_of(imported)] >= RANK[app_of(module)]


def test_no_import_runs_up_the_layers_outside_the_known_debt():
    upward = {pair for pair in cross_app_imports() if is_upward(*pair)}
    unknown = sorted(upward - KNOWN_DEBT.keys())
    assert not unknown, (
        f"imports up the layers (fix, or list with a reason in KNOWN_DEBT): {unknown}"
    )


def test_every_known_debt_still_exists():
    # A paid debt must leave the list, or a new import could come back in its name.
    gone = sorted(KNOWN_DEBT.keys() - cross_app_imports())
    assert not gone, f"no longer imported, remove from KNOWN_DEBT: {gone}"


def test_apps_form_no_cycle_outside_the_known_debt():
    edges: dict[str, set[str]] = {app: set() for app in RANK}
    for module, imported in cross_app_imports() - KNOWN_DEBT.keys():
        edges[app_of(module)].add(app_of(imported))
    assert not _cycle(edges), f"import cycle between apps: {_cycle(edges)}"


def _cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path of apps, or [] if there is none (depth-first)."""
    state: dict[str, str] = {}

    def visit(app: str, path: list[str]) -> list[str]:
        state[app] = "open"
        for target in sorted(edges[app]):
            if state.get(target) == "open":
                return [*path, app, target]
            if target not in state and (found := visit(target, [*path, app])):
                return found
        state[app] = "done"
        return []

    for app in sorted(edges):
        if app not in state and (found := visit(app, [])):
            return found
    return []


def test_the_layer_check_sees_an_upward_import(tmp_path):
    # Guards the parser: a deferred import inside a function counts.
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from config import dispatch\n")
    assert list(imported_modules("accounts.m", path)) == ["config"]
    assert is_upward("accounts.m", "config.dispatch")
