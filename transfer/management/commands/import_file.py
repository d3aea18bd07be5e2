"""`manage.py import_file EMAIL PATH`: the operator's import, the same as an upload's (one
job, one transaction), run here rather than by the worker, with a progress bar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.models import User
from core.errors import Conflict
from transfer.models import IMPORT_MAX_BYTES, ImportStatus
from transfer.services import import_create, import_run


class Command(BaseCommand):
    help = "Import a Loop CSV zip or .db, a HabitBull CSV or this app's JSON into an account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the account's e-mail")
        parser.add_argument("path", type=Path, help="the file to import")

    def handle(self, *args: object, email: str, path: Path, **options: object) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"no user with the e-mail {email!r}")
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        if path.stat().st_size > IMPORT_MAX_BYTES:
            raise CommandError(f"{path} is larger than {IMPORT_MAX_BYTES} bytes")
        try:
            job = import_create(user=user, data=path.read_bytes(), queue=False)
        except Conflict as refused:
            raise CommandError(refused.message) from None
        with tqdm(desc="importing", unit="day", disable=options.get("verbosity") == 0) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            finished = import_run(job_id=job.pk, progress=progress)
        if finished is None or finished.status != ImportStatus.FINISHED:
            raise CommandError(finished.error if finished else "the import was run elsewhere")
        self.stdout.write(
            f"import {finished.pk} ({finished.format}): {finished.habits_created} habit(s) "
            f"created, {finished.habits_merged} merged, {finished.instances_created} day(s) "
            f"added, {finished.days_existing} already there"
        )
