from datetime import datetime

from ninja import Schema
from pydantic import Field

from core.schemas import InputSchema


class WebhookIn(InputSchema):
    url: str = Field(max_length=2000, description="An http or https URL whose host is public")
    events: list[str] = Field(
        max_length=20, description="Frame types to receive (docs/API.md, Webhooks)"
    )


class WebhookChange(InputSchema):
    """Each field optional in a PATCH (PatchDict), none of them null."""

    url: str = Field(max_length=2000)
    events: list[str] = Field(max_length=20)
    enabled: bool = Field(description="true again: the failure count starts anew")


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    enabled: bool
    failures_in_a_row: int
    disabled_reason: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="`whsec_<base64>`: shown in this answer only")


class DeliveryOut(Schema):
    id: int
    event: str
    attempt: int
    status_code: int | None
    error: str
    created_at: datetime
    delivered_at: datetime | None
