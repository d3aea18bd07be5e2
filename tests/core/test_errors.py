"""core is the ground layer: it imports no app, and each of its refusals has one HTTP status."""

import ast
from pathlib import Path

from config.api import DOMAIN_STATUS
from core import errors

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {init.parent.name for init in ROOT.glob("*/__init__.py")}


def _imported(module: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def test_core_imports_no_app():
    imports = {
        name
        for module in (ROOT / "core").rglob("*.py")
        for name in _imported(module)
        if name.split(".")[0] in FIRST_PARTY - {"core"}
    }

    assert "accounts" in FIRST_PARTY  # the scan sees the apps
    assert imports == set()


def test_every_refusal_has_a_status_in_the_api_only():
    refusals = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.DomainError)
    }

    assert refusals == set(DOMAIN_STATUS)
    assert not any(hasattr(cls, "status_code") for cls in refusals)
