"""Practitioners and their open slots: parse, call one selector, serialize."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sofia_checkout.appointments.selectors import (
    availability_get,
    offering_lookup,
    practitioner_list,
)
from sofia_checkout.appointments.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    PractitionerSerializer,
)
from sofia_checkout.core.errors import ValidationFailed
from sofia_checkout.core.serializers import error_responses


class PractitionerListApi(APIView):
    @extend_schema(responses={200: PractitionerSerializer(many=True)}, operation_id="practitioner_list")
    def get(self, request: Request) -> Response:
        return Response(PractitionerSerializer(practitioner_list(), many=True).data)


class AvailabilityApi(APIView):
    @extend_schema(
        parameters=[AvailabilityQuerySerializer],
        responses={200: AvailabilitySerializer, **error_responses(400)},
        operation_id="availability_get",
    )
    def get(self, request: Request) -> Response:
        """Open slot starts per day (in `tz`), from hours, overrides, lead time, horizon and booked visits."""
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        offering, errors = offering_lookup(practitioner=params["practitioner"], service=params["service"])
        if offering is None:
            raise ValidationFailed(errors=errors)
        practitioner = offering.practitioner
        zone = ZoneInfo(params.get("tz") or practitioner.time_zone)
        availability = availability_get(
            offering=offering, first_day=params["from"], last_day=params["to"], zone=zone, now=timezone.now()
        )
        data = {
            "practitioner": practitioner.id,
            "service": offering.service.slug,
            "time_zone": str(availability.zone),
            "duration_minutes": offering.service.duration_minutes,
            # isoformat keeps each start's offset in `tz` (the serializer would convert to UTC).
            "days": [
                {"date": day, "slots": [start.isoformat() for start in starts]}
                for day, starts in availability.days.items()
            ],
        }
        return Response(AvailabilitySerializer(data).data)
