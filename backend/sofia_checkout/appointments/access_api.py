"""The API side of appointment access: read the bearer token, never let a proxy or browser cache what it
opens. Which appointment the token opens is checked by the view (access.py); no token opens nothing."""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_cache_control
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

_MAX_TOKEN_LENGTH = 128


class AppointmentTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` -> request.auth is the presented token; no user is authenticated.

    A malformed header counts as no token: the view then answers 404 as for an unknown id (never 401, which
    would tell that the id exists). Throttles still count such requests.
    """

    def authenticate(self, request: Request) -> tuple[None, str] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer" or len(parts[1]) > _MAX_TOKEN_LENGTH:
            return None
        try:
            return None, parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class AppointmentAccessApi(APIView):
    """Base of every per-appointment endpoint: bearer token required, answers never cached."""

    authentication_classes = [AppointmentTokenAuthentication]
    # Nothing to check before the view: it opens the appointment the token names, or answers 404.
    permission_classes: list[type[BasePermission]] = []

    @staticmethod
    def presented_token(request: Request) -> str:
        return str(request.auth or "")

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, no_store=True)
        return response


class AppointmentTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Declares the bearer scheme in the OpenAPI schema for the operations that need it."""

    target_class = AppointmentTokenAuthentication
    name = "appointmentAccessToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The appointment's access token: returned once by POST /api/appointments/ and carried in the "
                "manage link's fragment. A missing or wrong token gets 404 not_found, as an unknown id does."
            ),
        }
