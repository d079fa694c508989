"""Property-based fuzzing of the whole API from its own OpenAPI schema (bounded examples, in-process WSGI).

No 5xx, every status code and body documented, every response matching its schema. Providers are mocked to
be unreachable, so a generated payment call exercises the failure paths without touching any network.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def providers_down() -> Iterator[None]:
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=httpx.ConnectError("fuzzing: providers are unreachable"))
        yield


@pytest.mark.fuzz
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case: schemathesis.Case, providers_down: None) -> None:
    case.call_and_validate(checks=CHECKS)
