"""Request id in and out: reuse a sane incoming X-Request-ID (from a proxy) or make one; body size; probes."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from sofia_checkout.core.exception_handler import envelope
from sofia_checkout.core.logging import new_request_id, request_id_var
from sofia_checkout.core.views import HealthApi, ReadyApi

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Which replica answered (BACKEND_REPLICA_NAME, set by docker-compose): the load balancer at work.
        self.replica = settings.BACKEND_REPLICA_NAME

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        if self.replica:
            response["X-Backend-Replica"] = self.replica
        return response


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with the JSON envelope before anything parses them.

    DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE check alone would not apply.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return JsonResponse(envelope("payload_too_large", "The request body is too large."), status=413)
        return self.get_response(request)


class HealthProbeMiddleware:
    """Answer /api/health/ and /api/ready/ before the Host header is checked against ALLOWED_HOSTS.

    Load balancers and orchestrators probe with an address (or anything) as Host; those two read-only
    endpoints must answer them, while every other path keeps the strict host check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.probes = {"/api/health/": HealthApi.as_view(), "/api/ready/": ReadyApi.as_view()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        if probe is None or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        response = probe(request)
        response.render()  # a DRF Response: Django's handler would render it after the middleware
        return response
