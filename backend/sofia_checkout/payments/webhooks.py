"""The webhook endpoint: raw body in, checked by the provider's adapter; no throttling, no CSRF."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sofia_checkout.core.exception_handler import envelope
from sofia_checkout.core.serializers import error_responses
from sofia_checkout.payments.providers.registry import registered_providers
from sofia_checkout.payments.webhook_intake import (
    WebhookRejected,
    WebhookRetryLater,
    webhook_answer_codes,
    webhook_receive,
)


class WebhookApi(APIView):
    """One URL per provider (`/api/webhooks/<provider>/`); the adapter decides the answer codes."""

    @extend_schema(
        parameters=[OpenApiParameter("provider", str, OpenApiParameter.PATH, enum=registered_providers())],
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="Recorded (providers that expect a body)"),
            204: OpenApiResponse(description="Recorded (providers that expect no body)"),
            **error_responses(400, 401, 404, 503),
        },
        operation_id="webhook_receive",
    )
    def post(self, request: Request, provider: str) -> Response:
        ok_status, auth_failed_status = webhook_answer_codes(provider=provider)
        try:
            result = webhook_receive(provider=provider, body=request.body, headers=request.headers)
        except WebhookRejected as exc:
            status = auth_failed_status if exc.code == "invalid_signature" else 400
            return Response(envelope(exc.code, exc.message), status=status)
        except WebhookRetryLater:
            return Response(
                envelope(
                    "provider_unavailable", "Could not confirm the event with the provider; retry later."
                ),
                status=503,
            )
        if ok_status == 204:
            return Response(status=204)
        return Response({"received": True, "outcome": result.outcome, "duplicate": result.duplicate})
