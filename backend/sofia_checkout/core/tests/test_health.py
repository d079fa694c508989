from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_probes_answer_whatever_the_host_while_everything_else_checks_it(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["checkout.example.com"]
    client = Client()
    # A load balancer or kubelet probes with the pod's address as Host.
    for path in ("/api/health/", "/api/ready/"):
        response = client.get(path, HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 200, path
        assert response.json()["status"] == "ok"
        assert response["X-Request-ID"]
    assert client.get("/api/config/", HTTP_HOST="10.0.3.7:8000").status_code == 400
    assert client.get("/api/config/", HTTP_HOST="checkout.example.com").status_code == 200
    # Only reads: anything else goes the normal way.
    assert client.post("/api/health/", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_a_named_replica_says_so_on_every_answer_and_an_unnamed_one_says_nothing(settings: Any) -> None:
    assert "X-Backend-Replica" not in Client().get("/api/health/")
    settings.BACKEND_REPLICA_NAME = "backend2"
    client = Client()  # the middleware reads the name when the handler is built
    for path in ("/api/health/", "/api/config/", "/api/nope/"):
        assert client.get(path)["X-Backend-Replica"] == "backend2", path
