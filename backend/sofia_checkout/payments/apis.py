"""Payment session endpoints: parse, call one service, serialize."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from sofia_checkout.appointments.access import APPOINTMENT_NOT_FOUND
from sofia_checkout.appointments.access_api import AppointmentAccessApi
from sofia_checkout.core.errors import NotFound
from sofia_checkout.core.serializers import error_responses, provider_unavailable_response
from sofia_checkout.core.throttling import CountingScopedRateThrottle
from sofia_checkout.payments.selectors import payment_session_get_authorized
from sofia_checkout.payments.serializers import (
    PaymentSessionOutputSerializer,
    PaymentSessionStartInputSerializer,
)
from sofia_checkout.payments.services import payment_session_start, payment_session_sync


class PaymentSessionStartApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "payment_session"

    @extend_schema(
        request=PaymentSessionStartInputSerializer,
        responses={
            200: PaymentSessionOutputSerializer,
            201: PaymentSessionOutputSerializer,
            **error_responses(400, 404, 409, 413, 415, 429, 502),
            503: provider_unavailable_response(),
        },
        operation_id="payment_session_start",
    )
    def post(self, request: Request, appointment_id: uuid.UUID) -> Response:
        presented = self.presented_token(request)
        if not presented:
            raise NotFound(APPOINTMENT_NOT_FOUND)
        serializer = PaymentSessionStartInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The token is checked under the claim's row lock (one query fewer on the hot path).
        session, created = payment_session_start(
            appointment_id=appointment_id,
            provider=serializer.validated_data["provider"],
            presented_token=presented,
        )
        return Response(PaymentSessionOutputSerializer(session).data, status=201 if created else 200)


class PaymentSessionDetailApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "appointment_read"

    @extend_schema(
        responses={200: PaymentSessionOutputSerializer, **error_responses(404, 429)},
        operation_id="payment_session_get",
    )
    def get(self, request: Request, payment_session_id: uuid.UUID) -> Response:
        session = payment_session_get_authorized(
            payment_session_id=payment_session_id, presented=self.presented_token(request)
        )
        return Response(PaymentSessionOutputSerializer(session).data)


class PaymentSessionSyncApi(AppointmentAccessApi):
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "sync"

    @extend_schema(
        request=None,
        responses={
            200: PaymentSessionOutputSerializer,
            **error_responses(404, 429, 502),
            503: provider_unavailable_response(),
        },
        operation_id="payment_session_sync",
    )
    def post(self, request: Request, payment_session_id: uuid.UUID) -> Response:
        session = payment_session_get_authorized(
            payment_session_id=payment_session_id, presented=self.presented_token(request)
        )
        session = payment_session_sync(payment_session=session)
        return Response(PaymentSessionOutputSerializer(session).data)
