"""Packaging: production installs only what it runs, and the two locks cannot drift apart.

requirements.lock (runtime only) is what the Dockerfile installs; requirements-dev.lock (runtime
plus the test and bench extras) is what `make install` puts in .venv. `make lock` compiles the
dev lock with `-c requirements.lock`, and these tests hold both files to that contract.
"""

import fnmatch
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"

# Packages only the tests and the performance suite use: none may reach the production image.
TEST_AND_BENCH_ONLY = (
    "pytest*",
    "playwright",
    "schemathesis",
    "hypothesis*",
    "djangorestframework*",
    "factory-boy",
    "faker",
    "time-machine",
    "ruff",
)

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


@pytest.fixture(autouse=True)
def clean_redis() -> None:
    """Overrides the suite's Redis flush: these tests only read files, so need no service."""
    return


def _normalize(name: str) -> str:
    """The PEP 503 form of a distribution name (`Django_CORS.headers` -> `django-cors-headers`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: Path) -> dict[str, str]:
    """The `name==version` lines of a lock, as {normalized name: version}."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[_normalize(match.group(1))] = match.group(2)
    assert pins, f"{lock.name} pins nothing"
    return pins


def _project() -> dict[str, object]:
    """pyproject.toml's [project] table."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


def _requirements(specs: object) -> list[Requirement]:
    """A list of PEP 508 strings from pyproject.toml, parsed."""
    assert isinstance(specs, list)
    return [Requirement(spec) for spec in specs]


def test_the_runtime_lock_pins_no_test_or_bench_package() -> None:
    """Guards issue 16: the Docker image installs requirements.lock, so no test/bench tool."""
    leaked = sorted(
        name
        for name in _pins(RUNTIME_LOCK)
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in TEST_AND_BENCH_ONLY)
    )

    assert leaked == [], f"requirements.lock pins test/bench-only packages: {leaked}"


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda lock: lock.name)
def test_every_runtime_dependency_is_pinned_in_both_locks_within_its_range(lock: Path) -> None:
    """Guards a lock left stale after editing [project].dependencies (production or dev missing
    a dependency, or pinning a version outside the range pyproject.toml declares)."""
    pins = _pins(lock)
    problems = []
    for requirement in _requirements(_project()["dependencies"]):
        name = _normalize(requirement.name)
        if name not in pins:
            problems.append(f"{name} is not pinned")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{name}=={pins[name]} is outside {requirement.specifier}")

    assert problems == [], f"{lock.name}: {problems}"


def test_the_dev_lock_pins_every_test_and_bench_dependency() -> None:
    """Guards `make test` / `make bench`: the dev lock must carry both extras, not runtime only."""
    pins = _pins(DEV_LOCK)
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    missing = sorted(
        _normalize(requirement.name)
        for extra in ("test", "bench")
        for requirement in _requirements(extras[extra])
        if _normalize(requirement.name) not in pins
    )

    assert missing == [], f"requirements-dev.lock lacks: {missing}"


def test_the_two_locks_pin_the_same_version_of_every_package_they_share() -> None:
    """Guards drift: tests must run the versions production runs (dev is compiled with
    `-c requirements.lock`), and the dev lock must hold every runtime pin."""
    runtime, dev = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    differing = {
        name: (version, dev[name])
        for name, version in runtime.items()
        if name in dev and dev[name] != version
    }
    only_in_runtime = sorted(set(runtime) - set(dev))

    assert differing == {}, f"(requirements.lock, requirements-dev.lock) differ: {differing}"
    assert only_in_runtime == [], f"pinned in requirements.lock only: {only_in_runtime}"


def test_no_egg_info_build_output_is_tracked_by_git() -> None:
    """Guards against committing `pip install -e .` output (habits_tracker.egg-info once was)."""
    git = shutil.which("git")
    assert git is not None, "the tests run from a git checkout (make test, CI)"
    listed = subprocess.run(
        [git, "ls-files", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split("\0")
    tracked = sorted(
        path for path in listed if any(part.endswith(".egg-info") for part in path.split("/"))
    )

    assert tracked == [], f"git tracks build output: {tracked}"
