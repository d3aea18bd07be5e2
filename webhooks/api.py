"""`/api/webhooks/` (SPEC §10): a user's hooks and their last deliveries. A login token only
(a personal token is refused here by the auth rule)."""

from typing import Any

from ninja import PatchDict, Router, Status

from accounts.auth import AuthedRequest, JWTAuth
from core.schemas import Message, ValidationErrorOut
from core.types import ObjectId
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery
from webhooks.schemas import DeliveryOut, WebhookChange, WebhookCreatedOut, WebhookIn, WebhookOut

router = Router(tags=["webhooks"], auth=JWTAuth())
ONE = {200: WebhookOut, 401: Message, 404: Message, 422: ValidationErrorOut}


@router.get("/", response={200: list[WebhookOut], 401: Message})
def webhook_list(request: AuthedRequest) -> list[Webhook]:
    return list(Webhook.objects.filter(user=request.auth).order_by("id"))


@router.post("/", response={201: WebhookCreatedOut, 401: Message, 422: ValidationErrorOut})
def webhook_create(request: AuthedRequest, payload: WebhookIn) -> Status:
    """The answer carries the signing `secret`, once: keep it to verify the deliveries."""
    hook = services.webhook_create(user=request.auth, url=payload.url, events=payload.events)
    return Status(201, hook)


@router.get(
    "/{webhook_id}/",
    response={200: WebhookOut, 401: Message, 404: Message, 422: ValidationErrorOut},
)
def webhook_read(request: AuthedRequest, webhook_id: ObjectId) -> Webhook:
    return services.webhook_of(user=request.auth, webhook_id=webhook_id)


@router.patch(
    "/{webhook_id}/",
    response={200: WebhookOut, 401: Message, 404: Message, 422: ValidationErrorOut},
)
def webhook_update(
    request: AuthedRequest, webhook_id: ObjectId, payload: PatchDict[WebhookChange]
) -> Webhook:
    changes: dict[str, Any] = payload
    return services.webhook_update(user=request.auth, webhook_id=webhook_id, changes=changes)


@router.delete(
    "/{webhook_id}/", response={204: None, 401: Message, 404: Message, 422: ValidationErrorOut}
)
def webhook_delete(request: AuthedRequest, webhook_id: ObjectId) -> Status:
    services.webhook_delete(user=request.auth, webhook_id=webhook_id)
    return Status(204, None)


@router.get(
    "/{webhook_id}/deliveries/",
    response={200: list[DeliveryOut], 401: Message, 404: Message, 422: ValidationErrorOut},
)
def webhook_deliveries(request: AuthedRequest, webhook_id: ObjectId) -> list[WebhookDelivery]:
    """The last 50, newest first."""
    hook = services.webhook_of(user=request.auth, webhook_id=webhook_id)
    return list(WebhookDelivery.objects.filter(webhook=hook).order_by("-id")[: services.KEEP])
