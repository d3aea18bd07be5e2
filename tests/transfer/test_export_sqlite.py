"""The exports on the embedded default, a real SQLite file (`manage.py export_user` in a
process of its own), give the same files as on PostgreSQL, but for the ids."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.transfer.sample import build_account
from transfer.downloads import export_download

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ID_KEYS = ("id", "habit_id", "related_pleasant_habit", "cue_habit_id", "pause_id")


def _manage(database_url: str, *args: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _without_ids(document: dict[str, Any]) -> dict[str, Any]:
    """Ids as ranks among their own kind; the moments of writing (not exported data) gone."""
    ranks = {
        kind: {item["id"]: n for n, item in enumerate(document[kind])}
        for kind in ("habits", "instances", "pauses")
    }
    owner = {"habit_id": "habits", "related_pleasant_habit": "habits", "cue_habit_id": "habits",
             "pause_id": "pauses", "id": None}  # fmt: skip

    def plain(kind: str, item: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in item.items() if k not in ("created_at", "updated_at")}
        for key in ID_KEYS:
            if out.get(key) is not None:
                out[key] = ranks[owner[key] or kind][out[key]]
        return out

    return {
        "user": {**document["user"], "email": None},
        **{kind: [plain(kind, item) for item in document[kind]] for kind in ranks},
    }


def test_sqlite_exports_the_same_files_as_postgresql(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    _manage(url, "migrate", "--verbosity", "0")
    # One process builds the account and exports it through the operator's command, twice.
    script = (
        "from django.core.management import call_command as c\n"
        "from tests.transfer.sample import build_account\n"
        "build_account('s@x.org')\n"
        f"c('export_user', 's@x.org', '--output', {str(tmp_path / 's.json')!r})\n"
        f"c('export_user', 's@x.org', '--format', 'loop-csv', '-o', {str(tmp_path / 's.zip')!r})"
    )
    _manage(url, "shell", "-c", script)
    owner = build_account("p@x.org")

    on_sqlite = json.loads((tmp_path / "s.json").read_bytes())
    on_postgres = json.loads(export_download(owner, "json").content)
    assert len(on_sqlite["instances"]) == 8
    assert all(i["scheduled_at"].endswith(".123456Z") for i in on_sqlite["instances"][1:])
    assert _without_ids(on_sqlite) == _without_ids(on_postgres)

    zipped_sqlite = zipfile.ZipFile(tmp_path / "s.zip")
    zipped_postgres = zipfile.ZipFile(io.BytesIO(export_download(owner, "loop-csv").content))
    assert zipped_sqlite.namelist() == zipped_postgres.namelist()
    for name in zipped_postgres.namelist():
        assert zipped_sqlite.read(name) == zipped_postgres.read(name), name
