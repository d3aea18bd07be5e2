"""One door for after-commit work: services `record`, config/reactions.py reacts.

A new `transaction.on_commit`, a broadcast or a cache forget called from a service, an admin,
a handler or a task fails here; so does a recorded event type without a row in the table.
"""

import ast
import importlib
from pathlib import Path

import pytest

from config.reactions import AFTER_COMMIT, WITHIN

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "accounts", "habits", "instances", "realtime", "telegram", "transfer", "webhooks", "dashboard",
    "config",
)  # fmt: skip
CORE = "core/events.py"
REACTIONS = "config/reactions.py"
# Where a reaction's own parts call each other: the frame builders (run only by the table),
# the channel-layer sends, and the worker's half of a big announcement.
FRAME_BUILDERS = {"realtime/frames.py", "realtime/broadcast.py"}
ONLY_IN = {
    "on_commit": {CORE},
    "delay_on_commit": {CORE},
    "broadcast": {REACTIONS} | FRAME_BUILDERS,
    "broadcast_batch": {REACTIONS} | FRAME_BUILDERS,
    "broadcast_many": {REACTIONS} | FRAME_BUILDERS,
    "stats_recompute": FRAME_BUILDERS,
    "instances_announce": {REACTIONS, "realtime/tasks.py"},
    "stats_announce": {"realtime/tasks.py"},
    "notifications_decide": {"telegram/tasks.py"},
    **{
        name: {REACTIONS}
        for name in (
            "revoke_sessions", "revoke_token_sessions", "token_state_forget",
            "personal_token_forget", "today_forget", "stats_forget", "poke_bot",
            "habit_announce", "reminders_settle", "program_finished_owe",
            "instances_on_timezone_changed", "instances_on_habit_created",
            "instances_on_habit_changed", "instances_stretch_courses",
            "instances_shrink_courses", "deliveries_owe", "notice_owe", "today_announce",
        )
    },
}  # fmt: skip


def _sources() -> list[tuple[str, ast.Module]]:
    paths = [p for pkg in (*PACKAGES, "core") for p in (ROOT / pkg).rglob("*.py")]
    return [
        (str(p.relative_to(ROOT)), ast.parse(p.read_text()))
        for p in sorted(paths)
        if "migrations" not in p.parts
    ]


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _calls(tree: ast.Module) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def test_after_commit_work_and_reactions_are_called_only_through_the_one_door() -> None:
    stray = [
        f"{path}:{call.lineno} {name}()"
        for path, tree in _sources()
        for call in _calls(tree)
        if (name := _called(call)) in ONLY_IN and path not in ONLY_IN[name]
    ]
    assert not stray, "record an event instead (core/events.py, config/reactions.py): " + str(stray)


def test_the_scan_finds_what_is_known_to_exist() -> None:
    found = {(path, _called(call)) for path, tree in _sources() for call in _calls(tree)}
    assert (CORE, "on_commit") in found
    assert (REACTIONS, "today_forget") in found
    assert ("instances/services/recorded.py", "record") in found


def test_core_imports_no_app() -> None:
    for path in sorted((ROOT / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in (*PACKAGES, "installation"), f"{path}: {name}"


def _event_constants() -> dict[str, str]:
    constants: dict[str, str] = {}
    for path in sorted(ROOT.glob("*/events.py")):
        module = importlib.import_module(f"{path.parent.name}.events")
        constants |= {k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
    return constants


def _type_names(arg: ast.expr) -> list[str]:
    """The constants a `record` call's type argument may be (`A if refused else B`: both)."""
    if isinstance(arg, ast.IfExp):
        return _type_names(arg.body) + _type_names(arg.orelse)
    return [arg.id] if isinstance(arg, ast.Name) and arg.id.isupper() else []


def test_every_recorded_event_type_has_its_row_of_reactions() -> None:
    constants = _event_constants()
    recorders = {
        "record",
        "record_now",
        "_record_instances",
    }  # the latter: instances' guard around record
    recorded = {
        (path, name)
        for path, tree in _sources()
        for call in _calls(tree)
        if _called(call) in recorders and call.args
        for name in _type_names(call.args[0])
    }
    assert len(recorded) >= 12, recorded
    missing = {(path, name) for path, name in recorded if constants.get(name) not in AFTER_COMMIT}
    assert not missing, f"recorded with no row in config/reactions.AFTER_COMMIT: {missing}"
    assert set(WITHIN) <= set(AFTER_COMMIT)


@pytest.mark.parametrize("type", sorted(AFTER_COMMIT))
def test_event_types_are_entity_dot_verb(type: str) -> None:
    entity, _, verb = type.partition(".")
    assert entity.isalpha()
    assert verb.replace("_", "").isalpha()
