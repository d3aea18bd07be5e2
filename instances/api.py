from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router

from accounts.auth import AuthedRequest, JWTAuth
from config.schemas import Message, ValidationErrorOut
from config.types import ObjectId
from instances import selectors, services
from instances.models import HabitInstance, Source
from instances.schemas import InstanceOut

router = Router(tags=["instances"], auth=JWTAuth())


@router.get("/today/", response={200: list[InstanceOut], 401: Message})
def instances_today(request: AuthedRequest) -> QuerySet[HabitInstance]:
    """Your instances on today's local date, of active habits, in time order."""
    return selectors.instance_list_today(user=request.auth)


@router.post(
    "/{instance_id}/complete/",
    response={200: InstanceOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def instance_complete(request: AuthedRequest, instance_id: ObjectId) -> HabitInstance:
    """Mark done now: `completed` within grace, `completed_late` within the fix window."""
    instance = get_object_or_404(selectors.instance_list_for(user=request.auth), pk=instance_id)
    return services.instance_complete(instance=instance, at=timezone.now(), source=Source.WEB)
