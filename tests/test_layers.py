"""Imports run one way, from the ground up (docs/ARCHITECTURE.md, "The layers").

Every import in the production code of the apps below is read with `ast` (module level and
inside functions alike: a deferred import is still a dependency) and ranked by the app it
names. An import of a higher app, or of another app of the same rank, fails, and so does an
import cycle between apps. The checks run over any tree, so the tests below also plant an
upward import and a cycle in a temporary one and see them caught.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower is nearer the ground. installation sits between core and accounts: it imports only
# core and Django. telegram and realtime share a rank and must not import each other: each
# is a way out to the user, and config/reactions.py is the one place that drives both.
# transfer (export and import) and calendars read and write instances and habits; they sit
# beside telegram and realtime and import neither; so do webhooks (the outbox of signed
# deliveries: config/reactions.py builds their payloads from the socket frames).
RANK: dict[str, float] = {
    "core": 0,
    "installation": 0.5,
    "accounts": 1,
    "habits": 2,
    "instances": 3,
    "telegram": 4,
    "realtime": 4,
    "transfer": 4,
    "calendars": 4,
    "webhooks": 4,
    "dashboard": 5,
    "config": 6,
}

# Directories that are not production code of an app.
SKIPPED_PARTS = {"tests", "migrations", "bench"}


def production_modules(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (dotted module name, path) for every production module of the ranked apps."""
    for app in RANK:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
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


def cross_app_imports(root: Path) -> set[tuple[str, str]]:
    """Every (module, imported module) pair that crosses from one ranked app to another."""
    pairs = set()
    for module, path in production_modules(root):
        for imported in imported_modules(module, path):
            target = app_of(imported)
            if target is not None and target != app_of(module):
                pairs.add((module, imported))
    return pairs


def is_upward(module: str, imported: str) -> bool:
    """Upward: to a higher app, or sideways to another app of the same rank."""
    return RANK[app_of(imported)] >= RANK[app_of(module)]


def upward_imports(root: Path) -> list[tuple[str, str]]:
    return sorted(pair for pair in cross_app_imports(root) if is_upward(*pair))


def app_cycle(root: Path) -> list[str]:
    edges: dict[str, set[str]] = {app: set() for app in RANK}
    for module, imported in cross_app_imports(root):
        edges[app_of(module)].add(app_of(imported))
    return _cycle(edges)


def test_no_import_runs_up_the_layers():
    upward = upward_imports(ROOT)
    assert not upward, f"imports up the layers (move the code, or make it a reaction): {upward}"


def test_apps_form_no_cycle():
    assert not app_cycle(ROOT), f"import cycle between apps: {app_cycle(ROOT)}"


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


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_planted_upward_import_is_caught_even_deferred_in_a_function(tmp_path):
    root = _plant(tmp_path, {"accounts/models.py": "def f():\n    from config import dispatch\n"})
    assert upward_imports(root) == [("accounts.models", "config")]


def test_a_planted_sideways_import_between_telegram_and_realtime_is_caught(tmp_path):
    root = _plant(tmp_path, {"telegram/events.py": "from realtime.broadcast import broadcast\n"})
    assert upward_imports(root) == [("telegram.events", "realtime.broadcast")]


def test_a_planted_cycle_is_caught_and_relative_imports_resolve(tmp_path):
    root = _plant(
        tmp_path,
        {
            "habits/services/__init__.py": "from ..stats import x\nimport instances.models\n",
            "habits/stats.py": "x = 1\n",
            "instances/models.py": "from habits import services\n",
        },
    )
    assert ("habits.services", "instances.models") in upward_imports(root)
    assert app_cycle(root) == ["habits", "instances", "habits"]
    assert ("habits.services", "habits.stats") not in cross_app_imports(root)  # same app
