"""An export as a file to hand over: its bytes, media type and a dated name. What the API
answers and `manage.py export_user` writes are the same bytes."""

import json
from dataclasses import dataclass
from typing import Literal

from accounts.models import User
from accounts.timezones import local_today
from transfer.export import Progress, export_json
from transfer.loop_export import export_loop_csv

ExportFormat = Literal["json", "loop-csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("json", "loop-csv")


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str
    filename: str


def export_download(
    user: User, export_format: ExportFormat, *, progress: Progress | None = None
) -> Download:
    """The user's data in `export_format`, named for the user's local date."""
    today = local_today(user.timezone)
    if export_format == "loop-csv":
        content = export_loop_csv(user, today=today, progress=progress)
        return Download(content, "application/zip", f"atomic-habits-loop-{today}.zip")
    document = export_json(user, progress=progress)
    # Compact and UTF-8 as it is: a 2-year history is megabytes, not worth indenting.
    content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return Download(content, "application/json", f"atomic-habits-{today}.json")
