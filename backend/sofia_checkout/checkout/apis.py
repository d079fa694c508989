"""The shopper's booking endpoints: parse, call one service, serialize."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sofia_checkout.appointments.access import access_token_for, appointment_get_authorized
from sofia_checkout.appointments.access_api import AppointmentAccessApi
from sofia_checkout.appointments.models import Appointment
from sofia_checkout.appointments.selectors import practitioner_list
from sofia_checkout.appointments.serializers import (
    AppointmentCreateInputSerializer,
    AppointmentRescheduleInputSerializer,
)
from sofia_checkout.appointments.services import (
    appointment_booking_errors,
    appointment_create,
    appointment_reschedule,
)
from sofia_checkout.checkout.appointment_read import appointment_read_authorized
from sofia_checkout.checkout.serializers import (
    AppointmentCreatedOutputSerializer,
    AppointmentOutputSerializer,
    CheckoutConfigSerializer,
    ReceiptSerializer,
)
from sofia_checkout.core.errors import ValidationFailed
from sofia_checkout.core.serializers import error_responses, provider_unavailable_response
from sofia_checkout.core.throttling import CountingScopedRateThrottle
from sofia_checkout.payments.cancellation import appointment_cancel
from sofia_checkout.payments.receipts import receipt_for
from sofia_checkout.payments.selectors import payment_methods, payment_session_latest


def appointment_data(appointment: Appointment) -> dict[str, Any]:
    latest = payment_session_latest(appointment_id=appointment.id)
    return dict(AppointmentOutputSerializer(appointment, context={"latest_payment_session": latest}).data)


def appointment_response(appointment: Appointment, status: int = 200) -> Response:
    return Response(appointment_data(appointment), status=status)


def etag_matches(request: HttpRequest | Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in candidates or "*" in candidates


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
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "booking"

    @extend_schema(
        request=AppointmentCreateInputSerializer,
        responses={201: AppointmentCreatedOutputSerializer, **error_responses(400, 409, 413, 415, 429)},
        operation_id="appointment_create",
    )
    def post(self, request: Request) -> Response:
        serializer = AppointmentCreateInputSerializer(data=request.data)
        if not serializer.is_valid():
            # Every field at fault in one answer: the domain rules for the fields that did parse too.
            _, domain_errors = appointment_booking_errors(**serializer.parsed_fields())
            raise ValidationFailed(errors={**domain_errors, **serializer.errors})
        appointment = appointment_create(**serializer.validated_data)
        # The only answer that carries the token: afterwards it is only ever derived for the patient's email.
        # Just booked: no payment session to look up yet.
        shown = AppointmentOutputSerializer(appointment, context={"latest_payment_session": None}).data
        data = {**shown, "access_token": access_token_for(appointment)}
        response = Response(data, status=201)
        patch_cache_control(response, no_store=True)
        return response


class AppointmentDetailApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "appointment_read"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="The ETag of an earlier answer: 304 with no body while nothing changed.",
            ),
            OpenApiParameter(
                "ETag",
                str,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description="Send it back in If-None-Match to poll cheaply.",
            ),
        ],
        responses={
            200: AppointmentOutputSerializer,
            304: OpenApiResponse(description="Not modified since the ETag given in If-None-Match."),
            **error_responses(404, 429),
        },
        operation_id="appointment_get",
    )
    def get(self, request: Request, appointment_id: uuid.UUID) -> Response:
        shown = appointment_read_authorized(
            appointment_id=appointment_id, presented=self.presented_token(request)
        )
        # Decided before serializing: a poll while nothing changed costs the one query (appointment_read.py);
        # most polls do not even get here (checkout/early_not_modified.py answers them first).
        now = timezone.now()
        etag = shown.etag(now)
        if etag_matches(request, etag):
            response = Response(status=304)
        else:
            appointment, latest = shown.shown()
            context = {"latest_payment_session": latest, "now": now}
            response = Response(AppointmentOutputSerializer(appointment, context=context).data)
        response["ETag"] = etag
        return response


class AppointmentCancelApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "booking"

    @extend_schema(
        request=None,
        responses={
            200: AppointmentOutputSerializer,
            **error_responses(404, 409, 429, 502),
            503: provider_unavailable_response(),
        },
        operation_id="appointment_cancel",
    )
    def post(self, request: Request, appointment_id: uuid.UUID) -> Response:
        """Cancel: an unpaid payment is stopped at the provider, a paid one refunded. Idempotent."""
        appointment_get_authorized(appointment_id=appointment_id, presented=self.presented_token(request))
        return appointment_response(appointment_cancel(appointment_id=appointment_id))


class AppointmentRescheduleApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "booking"

    @extend_schema(
        request=AppointmentRescheduleInputSerializer,
        responses={200: AppointmentOutputSerializer, **error_responses(400, 404, 409, 429)},
        operation_id="appointment_reschedule",
    )
    def post(self, request: Request, appointment_id: uuid.UUID) -> Response:
        """Move the appointment to another open slot (same practitioner, service and price)."""
        appointment_get_authorized(appointment_id=appointment_id, presented=self.presented_token(request))
        serializer = AppointmentRescheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = appointment_reschedule(
            appointment_id=appointment_id, appointment_time=serializer.validated_data["appointment_time"]
        )
        return appointment_response(appointment)


class AppointmentReceiptApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "appointment_read"

    @extend_schema(
        responses={200: ReceiptSerializer, **error_responses(404, 409, 429)},
        operation_id="appointment_receipt",
    )
    def get(self, request: Request, appointment_id: uuid.UUID) -> Response:
        """The itemized receipt of a paid appointment; 409 `not_paid` for any other."""
        appointment = appointment_get_authorized(
            appointment_id=appointment_id, presented=self.presented_token(request)
        )
        return Response(ReceiptSerializer(receipt_for(appointment)).data)
