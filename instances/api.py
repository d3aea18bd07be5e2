from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate

from accounts.auth import AuthedRequest, JWTAuth
from core.pagination import Pagination
from core.schemas import Message, ValidationErrorOut
from core.types import ObjectId
from habits.selectors import habit_list_for
from instances import services
from instances.models import HabitInstance, Source
from instances.schemas import InstanceOut, StatsOut
from instances.selectors import instance_list_for_habit
from instances.stats_cache import habit_stats_cached
from instances.today_cache import today_json, today_keys

# What the API's renderer sets on every JSON answer.
JSON_CONTENT_TYPE = f"application/json; charset={settings.DEFAULT_CHARSET}"

router = Router(tags=["instances"], auth=JWTAuth())
# A habit's instances and stats, under /api/habits/ (config/api.py mounts both routers there):
# they are about instances, so they live here, and habits/ knows nothing of instances.
habit_router = Router(tags=["habits"], auth=JWTAuth())


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


@habit_router.get(
    "/{habit_id}/instances/",
    response={200: list[InstanceOut], 401: Message, 404: Message, 422: ValidationErrorOut},
)
@paginate(Pagination)
def habit_instances(request: AuthedRequest, habit_id: ObjectId) -> QuerySet[HabitInstance]:
    """The habit's instances, newest first."""
    habit = get_object_or_404(habit_list_for(user=request.auth), pk=habit_id)
    return instance_list_for_habit(habit=habit)


@habit_router.get(
    "/{habit_id}/stats/",
    response={200: StatsOut, 401: Message, 404: Message, 422: ValidationErrorOut},
)
def habit_stats(request: AuthedRequest, habit_id: ObjectId) -> dict:
    """Counts, rates, streaks, weekly buckets and strength; cached until the habit changes."""
    habit = get_object_or_404(habit_list_for(user=request.auth), pk=habit_id)
    return habit_stats_cached(habit.pk)
