from django.core.management.base import BaseCommand

from instances.beat_schedules import schedules_install


class Command(BaseCommand):
    help = "Install the periodic tasks beat runs (idempotent; admin edits are kept)."

    def handle(self, *args: object, **options: object) -> None:
        for task in schedules_install():
            self.stdout.write(f"schedule: {task.name} -> {task.task} ({task.interval})")
