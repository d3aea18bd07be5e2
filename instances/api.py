from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from ninja import Router

from accounts.auth import AuthedRequest, JWTAuth
from core.schemas import Message, ValidationErrorOut
from core.types import ObjectId
from instances import services
from instances.models import HabitInstance, Source
from instances.schemas import InstanceOut
from instances.today_cache import today_json, today_keys

# What the API's renderer sets on every JSON answer.
JSON_CONTENT_TYPE = f"application/json; charset={settings.DEFAULT_CHARSET}"

router = Router(tags=["instances"], auth=JWTAuth())


@router.get(
    "/today/",
    response={200: list[InstanceOut], 401: Message},
    # The cached list is read with the token state: one Redis round trip, or none from memory.
    auth=JWTAuth(prefetch=today_keys),
)
def instances_today(request: AuthedRequest) -> HttpResponse:
    """Your instances on today's local date, of active habits, in time order."""
    # Already the JSON of list[InstanceOut] (instances/today_cache.py): sent as it is.
    body = today_json(request.auth, request.prefetched)
    return HttpResponse(body, content_type=JSON_CONTENT_TYPE)


@router.post(
    "/{instance_id}/complete/",
    response={200: InstanceOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def instance_complete(request: AuthedRequest, instance_id: ObjectId) -> HabitInstance:
    """Mark done now: `completed` within grace, `completed_late` within the fix window."""
    return services.instance_complete(
        instance_id=instance_id, user_id=request.auth.pk, at=timezone.now(), source=Source.WEB
    )
