"""The shopper's booking endpoints: parse, call one service, serialize."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.appointments.selectors import appointment_get, practitioner_list
from sofia_checkout.appointments.serializers import (
    AppointmentCreateInputSerializer,
    AppointmentRescheduleInputSerializer,
)
from sofia_checkout.appointments.services import (
    appointment_booking_errors,
    appointment_create,
    appointment_reschedule,
)
from sofia_checkout.checkout.serializers import AppointmentOutputSerializer, CheckoutConfigSerializer
from sofia_checkout.core.errors import ValidationFailed
from sofia_checkout.core.serializers import error_responses
from sofia_checkout.payments.cancellation import appointment_cancel
from sofia_checkout.payments.selectors import payment_methods, payment_session_latest


def appointment_response(appointment: Appointment, status: int = 200) -> Response:
    latest = payment_session_latest(appointment_id=appointment.id)
    data = AppointmentOutputSerializer(appointment, context={"latest_payment_session": latest}).data
    return Response(data, status=status)


class CheckoutConfigApi(APIView):
    @extend_schema(responses={200: CheckoutConfigSerializer}, operation_id="config")
    def get(self, request: Request) -> Response:
        methods = payment_methods()
        data = {
            "currency": settings.CURRENCY,
            "payment_providers": [method.provider for method in methods],
            "payment_methods": [asdict(method) for method in methods],
            "practitioners": practitioner_list(),
            "booking_horizon_days": settings.BOOKING_HORIZON_DAYS,
            "min_lead_minutes": settings.BOOKING_MIN_LEAD_MINUTES,
            "sandbox": any(method.sandbox for method in methods),
        }
        return Response(CheckoutConfigSerializer(data).data)


class AppointmentCreateApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "booking"

    @extend_schema(
        request=AppointmentCreateInputSerializer,
        responses={201: AppointmentOutputSerializer, **error_responses(400, 409, 413, 415, 429)},
        operation_id="appointment_create",
    )
    def post(self, request: Request) -> Response:
        serializer = AppointmentCreateInputSerializer(data=request.data)
        if not serializer.is_valid():
            # Every field at fault in one answer: the domain rules for the fields that did parse too.
            _, domain_errors = appointment_booking_errors(**serializer.parsed_fields())
            raise ValidationFailed(errors={**domain_errors, **serializer.errors})
        appointment = appointment_create(**serializer.validated_data)
        return appointment_response(appointment, status=201)


class AppointmentDetailApi(APIView):
    @extend_schema(
        responses={200: AppointmentOutputSerializer, **error_responses(404)}, operation_id="appointment_get"
    )
    def get(self, request: Request, appointment_id: uuid.UUID) -> Response:
        return appointment_response(appointment_get(appointment_id=appointment_id))


class AppointmentCancelApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "booking"

    @extend_schema(
        request=None,
        responses={200: AppointmentOutputSerializer, **error_responses(404, 409, 429, 502, 503)},
        operation_id="appointment_cancel",
    )
    def post(self, request: Request, appointment_id: uuid.UUID) -> Response:
        """Cancel: an unpaid payment is stopped at the provider, a paid one refunded. Idempotent."""
        return appointment_response(appointment_cancel(appointment_id=appointment_id))


class AppointmentRescheduleApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "booking"

    @extend_schema(
        request=AppointmentRescheduleInputSerializer,
        responses={200: AppointmentOutputSerializer, **error_responses(400, 404, 409, 429)},
        operation_id="appointment_reschedule",
    )
    def post(self, request: Request, appointment_id: uuid.UUID) -> Response:
        """Move the appointment to another open slot (same practitioner, service and price)."""
        serializer = AppointmentRescheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = appointment_reschedule(
            appointment_id=appointment_id, appointment_time=serializer.validated_data["appointment_time"]
        )
        return appointment_response(appointment)
