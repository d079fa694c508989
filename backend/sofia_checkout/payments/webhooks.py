"""Webhook endpoints: raw body in, checked by the adapter; no throttling, no CSRF (no auth classes)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sofia_checkout.core.exception_handler import envelope
from sofia_checkout.core.serializers import error_responses
from sofia_checkout.payments.webhook_intake import WebhookRejected, WebhookRetryLater, webhook_receive


def _receive(provider: str, request: Request, *, ok_status: int, auth_status: int) -> Response:
    try:
        result = webhook_receive(provider=provider, body=request.body, headers=request.headers)
    except WebhookRejected as exc:
        status = auth_status if exc.code == "invalid_signature" else 400
        return Response(envelope(exc.code, exc.message), status=status)
    except WebhookRetryLater:
        return Response(
            envelope("provider_unavailable", "Could not confirm the event with the provider; retry later."),
            status=503,
        )
    if ok_status == 204:
        return Response(status=204)
    return Response({"received": True, "outcome": result.outcome, "duplicate": result.duplicate})


class StripeWebhookApi(APIView):
    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={200: OpenApiResponse(description="Recorded"), **error_responses(400, 503)},
        operation_id="webhook_stripe",
    )
    def post(self, request: Request) -> Response:
        return _receive("stripe", request, ok_status=200, auth_status=400)


class TruemedWebhookApi(APIView):
    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={204: OpenApiResponse(description="Recorded"), **error_responses(400, 401, 503)},
        operation_id="webhook_truemed",
    )
    def post(self, request: Request) -> Response:
        return _receive("truemed", request, ok_status=204, auth_status=401)
