"""`/api/export/` and `/api/import/` (SPEC §9)."""

from django.http import HttpResponse
from ninja import Query, Router, Schema

from accounts.auth import AuthedRequest, JWTAuth
from accounts.personal_tokens import Scope
from core.schemas import Message, ValidationErrorOut
from transfer.downloads import ExportFormat, export_download

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
