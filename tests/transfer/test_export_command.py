"""`manage.py export_user` (SPEC §9): the same bytes as the API's download, for an operator."""

import io
import json
import re
import sys
import zipfile
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from accounts.timezones import local_today
from instances.models import Status
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    owner = UserFactory(email="ops@example.com")
    habit = HabitFactory(user=owner, action="walk")
    make_instance(habit, habit.start_date, datetime.now(UTC), status=Status.MISSED)
    return owner


def test_json_to_a_path_is_the_whole_document(owner, tmp_path):
    target = tmp_path / "out.json"
    out = io.StringIO()

    call_command("export_user", "OPS@example.com", "--output", str(target), stdout=out)

    document = json.loads(target.read_bytes())
    assert document["user"]["email"] == "ops@example.com"
    assert [i["status"] for i in document["instances"]] == ["missed"]
    assert f"written to {target}" in out.getvalue()


def test_loop_csv_by_default_named_for_the_date_in_the_current_folder(owner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    call_command("export_user", owner.email, "--format", "loop-csv", verbosity=0)

    written = tmp_path / f"atomic-habits-loop-{local_today(owner.timezone)}.zip"
    archive = zipfile.ZipFile(written)
    assert "001 walk/Checkmarks.csv" in archive.namelist()


def test_dash_writes_to_stdout(owner, capsysbinary):
    call_command("export_user", owner.email, "--output", "-", verbosity=0)

    assert json.loads(capsysbinary.readouterr().out)["format"] == "atomic-habits"


def test_an_unknown_user_or_format_is_a_command_error(owner):
    with pytest.raises(CommandError, match=re.escape("no user with the e-mail 'nobody@example")):
        call_command("export_user", "nobody@example.com")
    with pytest.raises(CommandError, match="invalid choice: 'xml'"):
        call_command("export_user", owner.email, "--format", "xml")


def test_an_unwritable_path_is_a_command_error(owner, tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_user", owner.email, "--output", str(tmp_path / "no" / "x.json"))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_a_progress_bar_a_pipe_does_not(owner, tmp_path, monkeypatch):
    HabitFactory(user=owner, action="read")
    for stream, bar in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        call_command("export_user", owner.email, "--output", str(tmp_path / "x.json"))
        assert ("exporting: 100%" in stream.getvalue()) is bar
        assert ("2/2" in stream.getvalue()) is bar
