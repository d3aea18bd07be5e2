"""`/api/export/` and `/api/import/` (SPEC §9)."""

from django.http import HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from accounts.auth import AuthedRequest, JWTAuth
from accounts.personal_tokens import Scope
from core.schemas import Message, ValidationErrorOut
from core.types import ObjectId
from transfer import services
from transfer.downloads import ExportFormat, export_download
from transfer.models import IMPORT_MAX_BYTES, ImportJob
from transfer.schemas import ImportOut, ImportQueuedOut

# A personal token needs `write` for either, whatever the method (SPEC §10): an export is
# the whole account.
export_router = Router(tags=["export"], auth=JWTAuth(scope=Scope.WRITE))
import_router = Router(tags=["import"], auth=JWTAuth(scope=Scope.WRITE))


class ExportQuery(Schema):
    format: ExportFormat


# The answer is a file, not a schema: what OpenAPI shows for the 200.
EXPORT_FILE = {
    "description": "An attachment named for your local date.",
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
    },
}


@export_router.get(
    "/",
    response={401: Message, 422: ValidationErrorOut},
    openapi_extra={"responses": {200: EXPORT_FILE}},
)
def export(request: AuthedRequest, query: Query[ExportQuery]) -> HttpResponse:
    """Everything you own, as this app's JSON (`json`) or Loop Habit Tracker's CSV zip
    (`loop-csv`)."""
    download = export_download(request.auth, query.format)
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


TOO_LARGE = f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB."


@import_router.post(
    "/",
    response={
        202: ImportQueuedOut, 401: Message, 409: Message, 413: Message, 422: ValidationErrorOut,
    },
)  # fmt: skip
def import_upload(request: AuthedRequest, file: File[UploadedFile]) -> Status:
    """Upload a file to import (multipart field `file`, at most 20 MB): this app's JSON export,
    a Loop CSV zip or SQLite backup, or a HabitBull CSV, told apart by content. The worker
    runs it; follow it with `GET /api/import/{id}/` or the `import.progress` and
    `import.finished` frames. 409 while another import of yours is under way."""
    if file.size is not None and file.size > IMPORT_MAX_BYTES:
        return Status(413, {"detail": TOO_LARGE})
    data = file.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        return Status(413, {"detail": TOO_LARGE})
    job = services.import_create(user=request.auth, data=data)
    return Status(202, job)


@import_router.get(
    "/{job_id}/",
    response={200: ImportOut, 401: Message, 404: Message, 422: ValidationErrorOut},
)
def import_detail(request: AuthedRequest, job_id: ObjectId) -> ImportJob:
    """One of your imports: its status and, once over, what it created or why it failed."""
    return services.import_of(user=request.auth, job_id=job_id)
