"""The webhook endpoint: raw body in, checked by the provider's adapter; no throttling, no CSRF."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from sofia_checkout.core.exception_handler import envelope
from sofia_checkout.core.serializers import error_responses
from sofia_checkout.payments.provider_limits import Priority, provider_priority
from sofia_checkout.payments.providers.registry import registered_providers
from sofia_checkout.payments.webhook_intake import (
    WebhookRejected,
    WebhookRetryLater,
    webhook_answer_codes,
    webhook_receive,
)


class RejectedWebhookThrottle(SimpleRateThrottle):
    """Counts only deliveries that fail authentication, per client: a stranger posting garbage is slowed
    down, while a provider's genuine deliveries and retries are never throttled."""

    scope = "webhook_rejected"

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def over_limit(self, request: Request) -> bool:
        limit, duration = self.parse_rate(self.get_rate())
        self._duration = duration or 60
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self._duration]
        return limit is not None and len(self.history) >= limit

    def count_rejection(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self._duration)


class WebhookApi(APIView):
    """One URL per provider (`/api/webhooks/<provider>/`); the adapter decides the answer codes."""

    @extend_schema(
        parameters=[OpenApiParameter("provider", str, OpenApiParameter.PATH, enum=registered_providers())],
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="Recorded (providers that expect a body)"),
            204: OpenApiResponse(description="Recorded (providers that expect no body)"),
            **error_responses(400, 401, 404, 429, 503),
        },
        operation_id="webhook_receive",
    )
    def post(self, request: Request, provider: str) -> Response:
        ok_status, auth_failed_status = webhook_answer_codes(provider=provider)
        throttle = RejectedWebhookThrottle()
        if throttle.over_limit(request):
            return Response(envelope("throttled", "Too many rejected deliveries; slow down."), status=429)
        try:
            # A delivery never waits for, nor is refused by, our provider rate limit (it is counted).
            with provider_priority(Priority.WEBHOOK):
                result = webhook_receive(provider=provider, body=request.body, headers=request.headers)
        except WebhookRejected as exc:
            throttle.count_rejection()
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
