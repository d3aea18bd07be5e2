"""`manage.py import_file EMAIL PATH`: the same import, run in the command."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from instances.models import HabitInstance, Source
from tests.transfer.files import LoopHabit, loop_csv_zip
from transfer.models import ImportJob, ImportStatus

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


def test_the_command_imports_a_file_into_the_account(db, user, tmp_path):
    path = tmp_path / "loop.zip"
    days = [(YESTERDAY - timedelta(days=n), 2, "") for n in range(12)]
    path.write_bytes(loop_csv_zip([LoopHabit(name="Walk", entries=days)]))
    out = StringIO()

    call_command("import_file", user.email.upper(), str(path), stdout=out, stderr=StringIO())

    assert "1 habit(s) created" in out.getvalue()
    assert "12 day(s) added" in out.getvalue()
    assert HabitInstance.objects.filter(user=user, source=Source.IMPORT).count() == 12
    assert ImportJob.objects.get(user=user).status == ImportStatus.FINISHED


def test_the_command_says_why_a_file_fails(db, user, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    with pytest.raises(CommandError, match="not a format we can import"):
        call_command("import_file", user.email, str(path), stderr=StringIO())


def test_an_unknown_account_is_refused(db, tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"x")
    with pytest.raises(CommandError, match="no user"):
        call_command("import_file", "nobody@example.com", str(path))
