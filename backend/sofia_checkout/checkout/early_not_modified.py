"""The polled appointment read's 304, answered before the admin's middleware, URL resolving and DRF.

The return and manage pages poll `GET /api/appointments/{id}/` with `If-None-Match` every few seconds, and
nearly every poll finds nothing changed. For those, the session, CSRF, auth and messages middleware (there for
the admin), resolving the URL and DRF's request handling cost as much as the answer itself. This middleware
(after CORS, so the answer carries its headers) runs the view's own steps in the view's order: its throttle
(counted once: core/throttling.py), the token check and the tag (checkout/appointment_read.py). It answers
only the 304; anything else (a changed tag, a wrong token, a refusal, a database error) goes on to
AppointmentDetailApi, which answers it as it always did.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from rest_framework.request import Request

from sofia_checkout.appointments.access_api import AppointmentTokenAuthentication
from sofia_checkout.checkout.apis import AppointmentDetailApi, etag_matches
from sofia_checkout.checkout.appointment_read import appointment_read_authorized
from sofia_checkout.core.errors import NotFound
from sofia_checkout.core.throttling import CountingScopedRateThrottle, mark_counted

_ANY_ID = uuid.UUID(int=0)


class EarlyNotModifiedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # The read's path around its id, from the URLconf: /api/appointments/ and /.
        path = reverse("appointment-detail", kwargs={"appointment_id": _ANY_ID})
        self.before_id, self.after_id = path.split(str(_ANY_ID))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        appointment_id = self._polled_id(request)
        if appointment_id is not None:
            answer = _not_modified(request, appointment_id)
            if answer is not None:
                return answer
        return self.get_response(request)

    def _polled_id(self, request: HttpRequest) -> uuid.UUID | None:
        path = request.path_info
        if (
            request.method != "GET"
            or "HTTP_IF_NONE_MATCH" not in request.META
            or not path.startswith(self.before_id)
            or not path.endswith(self.after_id)
        ):
            return None
        try:
            return uuid.UUID(path[len(self.before_id) : len(path) - len(self.after_id)])
        except ValueError:
            return None


def _not_modified(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse | None:
    view = AppointmentDetailApi()
    view.setup(request, appointment_id=appointment_id)
    drf_request = Request(request, authenticators=[AppointmentTokenAuthentication()])
    if not CountingScopedRateThrottle().allow_request(drf_request, view):
        return None  # refused: the view refuses it again (refusals are not counted), with its 429
    mark_counted(request, view.throttle_scope)
    try:
        shown = appointment_read_authorized(
            appointment_id=appointment_id, presented=view.presented_token(drf_request)
        )
    except (NotFound, DatabaseError):
        return None  # the view's 404, or its error handling
    etag = shown.etag(timezone.now())
    if not etag_matches(request, etag):
        return None
    response = HttpResponseNotModified()
    response["ETag"] = etag
    for name, value in view.default_response_headers.items():
        response[name] = value
    patch_cache_control(response, no_store=True)  # as AppointmentAccessApi answers
    response["X-Frame-Options"] = settings.X_FRAME_OPTIONS  # as the (skipped) clickjacking middleware would
    return response
