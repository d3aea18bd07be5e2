"""`/api/export/` and `/api/import/` (SPEC §9)."""

from ninja import Router

export_router = Router(tags=["export"])
import_router = Router(tags=["import"])
