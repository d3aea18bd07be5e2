"""`manage.py export_user EMAIL [--format json|loop-csv] [--output PATH]`: a user's data as
the API's download would give it, for an operator (SPEC §9)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.models import User, normalize_email
from transfer.downloads import EXPORT_FORMATS, ExportFormat, export_download


class Command(BaseCommand):
    help = "Write a user's export (this app's JSON or Loop's CSV zip) to a file or stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="e-mail of the user")
        parser.add_argument(
            "--format", dest="export_format", choices=EXPORT_FORMATS, default="json"
        )
        parser.add_argument(
            "-o",
            "--output",
            help="file to write; '-' for stdout; default: the download's dated name, here",
        )

    def handle(
        self, *args: object, email: str, export_format: ExportFormat, output: str | None,
        **options: object,
    ) -> None:  # fmt: skip
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None:
            raise CommandError(f"no user with the e-mail {email!r}")
        # On stderr, and only on a terminal (tqdm's `disable=None`): a pipe gets no bar.
        quiet = options.get("verbosity") == 0
        with tqdm(desc="exporting", unit="habit", disable=True if quiet else None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            download = export_download(user, export_format, progress=progress)
        if output == "-":
            sys.stdout.buffer.write(download.content)
            sys.stdout.buffer.flush()
            return
        path = Path(output or download.filename)
        try:
            path.write_bytes(download.content)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}") from error
        if not quiet:
            self.stdout.write(f"{len(download.content)} bytes written to {path}")
