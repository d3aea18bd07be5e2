"""The two baselines the REST load is compared with."""

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from rest_framework import generics, serializers

from accounts.timezones import local_today
from instances.models import HabitInstance

CONSTANT = [{"id": n, "status": "scheduled"} for n in range(10)]


def bare(request: HttpRequest) -> JsonResponse:
    """The stack's ceiling: no auth, no database, a constant JSON list."""
    return JsonResponse(CONSTANT, safe=False)


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
