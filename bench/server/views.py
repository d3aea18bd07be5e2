"""The baselines the REST load is compared with."""

from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import generics, serializers

from accounts.timezones import local_today
from instances.models import HabitInstance

CONSTANT = [{"id": n, "status": "scheduled"} for n in range(10)]


def bare(request: HttpRequest) -> JsonResponse:
    """The stack's ceiling: no auth, no database, a constant JSON list."""
    return JsonResponse(CONSTANT, safe=False)


BARE_WRITE_SQL = """
UPDATE instances_habitinstance
SET status = 'completed', completed_at = now(), source = 'web', updated_at = now()
WHERE id = %s
RETURNING id, status, completed_at
"""


@csrf_exempt
@require_POST
def bare_write(request: HttpRequest, pk: int) -> JsonResponse:
    """The write ceiling: one UPDATE of an instance in its own transaction, on the same
    database, the row answered as JSON. No auth, no ORM, no event, no cache."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BARE_WRITE_SQL, [pk])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    instance_id, status, completed_at = row
    return JsonResponse({"id": instance_id, "status": status, "completed_at": completed_at})


class InstanceSerializer(serializers.ModelSerializer):
    """The seed's way: a ModelSerializer with the habit's fields through `source`."""

    habit_id = serializers.IntegerField()
    action = serializers.CharField(source="habit.action")
    place = serializers.CharField(source="habit.place")
    source = serializers.SerializerMethodField()

    class Meta:
        model = HabitInstance
        fields = [
            "id",
            "habit_id",
            "action",
            "place",
            "date",
            "scheduled_at",
            "grace_deadline",
            "fix_deadline",
            "status",
            "completed_at",
            "source",
        ]

    def get_source(self, obj: HabitInstance) -> str | None:
        return obj.source or None


class TodayView(generics.ListAPIView):
    """`GET /api/instances/today/` as a DRF ListAPIView behind simplejwt's authentication."""

    serializer_class = InstanceSerializer

    def get_queryset(self) -> QuerySet[HabitInstance]:
        user = self.request.user
        return (
            HabitInstance.objects.filter(
                user=user, date=local_today(user.timezone), habit__is_active=True
            )
            .select_related("habit")
            .order_by("scheduled_at", "id")
        )
