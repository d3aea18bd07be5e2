from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from accounts.auth import BY_METHOD, AuthedRequest, JWTAuth
from accounts.personal_tokens import Scope
from core.errors import NotFound
from core.pagination import Pagination
from core.schemas import Message, ValidationErrorOut, json_response
from core.types import ObjectId
from habits.selectors import habit_list_for
from instances import services
from instances.models import HabitInstance, Pause, Source
from instances.schemas import (
    InstanceOut,
    NoteIn,
    PauseIn,
    PauseOut,
    SkipIn,
    StatsOut,
    instance_answer,
)
from instances.selectors import instance_list_for_habit, pauses_not_ended
from instances.stats_cache import habit_stats_json, stats_keys
from instances.today_cache import today_json, today_keys

# Personal tokens: reading needs `read`, changing `write` (accounts/auth.py), but for the
# operations a `complete` token may run, each declaring it.
router = Router(tags=["instances"], auth=JWTAuth(scope=BY_METHOD))
pauses_router = Router(tags=["pauses"], auth=JWTAuth(scope=BY_METHOD))
COMPLETE = JWTAuth(scope=Scope.COMPLETE)
# A habit's instances and stats, under /api/habits/ (config/api.py mounts both routers there):
# they are about instances, so they live here, and habits/ knows nothing of instances.
habit_router = Router(tags=["habits"], auth=JWTAuth(scope=BY_METHOD))


@router.get(
    "/today/",
    response={200: list[InstanceOut], 401: Message},
    # The cached list is read with the token state: one Redis round trip, or none from memory.
    auth=JWTAuth(prefetch=today_keys, scope=Scope.READ),
)
def instances_today(request: AuthedRequest) -> HttpResponse:
    """Your instances on today's local date, of active habits, in time order."""
    # Already the JSON of list[InstanceOut] (instances/today_cache.py): sent as it is.
    return json_response(today_json(request.auth, request.prefetched))


@router.patch(
    "/{instance_id}/",
    auth=COMPLETE,
    response={200: InstanceOut, 401: Message, 404: Message, 422: ValidationErrorOut},
)
def instance_update(
    request: AuthedRequest, instance_id: ObjectId, payload: NoteIn
) -> HabitInstance:
    """Write, change or clear (`null` or `""`) your note on an instance, whatever its status."""
    return services.instance_note(
        instance_id=instance_id, user_id=request.auth.pk, note=payload.note
    )


@router.post(
    "/{instance_id}/complete/",
    auth=COMPLETE,
    response={200: InstanceOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def instance_complete(request: AuthedRequest, instance_id: ObjectId) -> HttpResponse:
    """Mark done now: `completed` within grace, `completed_late` within the fix window."""
    instance = services.instance_complete(
        instance_id=instance_id, user_id=request.auth.pk, at=timezone.now(), source=Source.WEB
    )
    return json_response(instance_answer(instance))


@router.post(
    "/{instance_id}/skip/",
    auth=COMPLETE,
    response={200: InstanceOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def instance_skip(request: AuthedRequest, instance_id: ObjectId, payload: SkipIn) -> HttpResponse:
    """Set an open instance aside (no reminder; the streak and the course wait for it)."""
    instance = services.instance_skip(
        instance_id=instance_id, user_id=request.auth.pk, reason=payload.reason, note=payload.note
    )
    return json_response(instance_answer(instance))


@router.delete(
    "/{instance_id}/skip/",
    auth=COMPLETE,
    response={200: InstanceOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def instance_unskip(request: AuthedRequest, instance_id: ObjectId) -> HttpResponse:
    """Undo a skip: back to the status the clock gives the instance now."""
    instance = services.instance_unskip(
        instance_id=instance_id, user_id=request.auth.pk, now=timezone.now()
    )
    return json_response(instance_answer(instance))


@pauses_router.get("/", response={200: list[PauseOut], 401: Message})
def pause_list(request: AuthedRequest) -> QuerySet[Pause]:
    """Your pauses under way and to come, soonest first."""
    return pauses_not_ended(user=request.auth)


@pauses_router.post("/", response={201: PauseOut, 401: Message, 422: ValidationErrorOut})
def pause_create(request: AuthedRequest, payload: PauseIn) -> Status:
    """Pause every habit (no `habit_id`) or one, on your local dates start..end inclusive."""
    pause = services.pause_create(user=request.auth, **payload.model_dump())
    return Status(201, pause)


@pauses_router.post(
    "/{pause_id}/end/",
    response={200: PauseOut, 204: None, 401: Message, 404: Message, 422: ValidationErrorOut},
)
def pause_end(request: AuthedRequest, pause_id: ObjectId) -> Pause | Status:
    """End a pause before today: today and later come back. Not begun yet: deleted (204)."""
    pause = services.pause_end(pause_id=pause_id, user=request.auth)
    return Status(204, None) if pause is None else pause


@pauses_router.delete(
    "/{pause_id}/", response={204: None, 401: Message, 404: Message, 422: ValidationErrorOut}
)
def pause_delete(request: AuthedRequest, pause_id: ObjectId) -> Status:
    """Delete a pause: what it skipped and is not final comes back by the clock."""
    services.pause_delete(pause_id=pause_id, user=request.auth)
    return Status(204, None)


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
    # The cached answer (its owner with it) is read with the token state: one Redis round
    # trip, or none from memory.
    auth=JWTAuth(prefetch=stats_keys, scope=BY_METHOD),
)
def habit_stats(request: AuthedRequest, habit_id: ObjectId) -> HttpResponse:
    """Counts, rates, streaks, weekly buckets and strength; cached until the habit changes."""
    body = habit_stats_json(habit_id, request.auth.pk, request.prefetched)
    if body is None:
        raise NotFound()
    # Already the JSON of StatsOut (instances/stats_cache.py): sent as it is.
    return json_response(body)
