"""Views outside any feature: health, readiness, and JSON answers for Django-level 404/500."""

from __future__ import annotations

import logging

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sofia_checkout.core.exception_handler import envelope

logger = logging.getLogger(__name__)

_status_serializer = inline_serializer("HealthStatus", {"status": serializers.CharField()})


class HealthApi(APIView):
    """Liveness: the process answers. Does not touch the database, so a slow DB does not restart us."""

    @extend_schema(responses={200: _status_serializer}, operation_id="health")
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyApi(APIView):
    """Readiness: the process answers and the database runs a query."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "ReadyStatus", {"status": serializers.CharField(), "database": serializers.CharField()}
            )
        },
        operation_id="ready",
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            logger.exception("readiness: database unreachable")
            return Response({"status": "unavailable", "database": "unreachable"}, status=503)
        return Response({"status": "ok", "database": "ok"})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(envelope("bad_request", "The request could not be understood."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(envelope("permission_denied", "Not allowed."), status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(envelope("not_found", "Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        envelope("server_error", "Something went wrong on our side. Please try again."), status=500
    )
