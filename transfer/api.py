"""`/api/export/` and `/api/import/` (SPEC §9)."""

from ninja import Router

from accounts.auth import JWTAuth
from accounts.personal_tokens import Scope

# A personal token needs `write` for either, whatever the method (SPEC §10): an export is
# the whole account.
export_router = Router(tags=["export"], auth=JWTAuth(scope=Scope.WRITE))
import_router = Router(tags=["import"], auth=JWTAuth(scope=Scope.WRITE))
