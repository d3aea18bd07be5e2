from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.models import User
from instances.services import instances_generate_for


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Backfill or regenerate instances for a range of local dates, for all or some users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="start", type=_date, required=True, help="first local date"
        )
        parser.add_argument("--to", dest="end", type=_date, required=True, help="last local date")
        parser.add_argument(
            "--user",
            dest="users",
            action="append",
            default=[],
            help="e-mail of a user (repeatable); all users when omitted",
        )

    def handle(
        self, *args: object, start: date, end: date, users: list[str], **options: object
    ) -> None:
        if end < start:
            raise CommandError("--to is before --from")
        user_ids = list(
            User.objects.filter(email__in=[u.lower() for u in users]).values_list("pk", flat=True)
        )
        if users and len(user_ids) != len(set(users)):
            raise CommandError("some --user e-mails match no user")
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        created = 0
        for day in tqdm(days, desc="generating", unit="day", disable=options.get("verbosity") == 0):
            created += len(instances_generate_for(user_ids=user_ids, dates=[day]))
        self.stdout.write(f"created {created} instance(s) over {len(days)} day(s)")
