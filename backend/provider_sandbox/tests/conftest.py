"""Fixtures: an in-process sandbox (Starlette TestClient) and a real webhook receiver served by uvicorn.

Helpers the tests import (bodies, credentials, the Sandbox and Receiver types) are in helpers.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from provider_sandbox.app import create_app
from provider_sandbox.tests.helpers import Receiver, Sandbox, SandboxFactory, TestClient, sandbox_config
from testing.net import free_port, wait_until


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.endpoint, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="the webhook receiver to start")
    receiver.url = f"http://127.0.0.1:{port}"
    yield receiver
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Receiver:
    _receiver_server.clear()
    return _receiver_server


@pytest.fixture
def make_sandbox(receiver: Receiver) -> Iterator[SandboxFactory]:
    clients: list[TestClient] = []

    def build(**overrides: Any) -> Sandbox:
        app = create_app(sandbox_config(receiver.url, **overrides))
        client = TestClient(app, base_url="http://sandbox.test", follow_redirects=False)
        client.__enter__()  # runs the lifespan: one event loop for the whole test
        clients.append(client)
        return Sandbox(client, app.state.sandbox, receiver)

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def sandbox(make_sandbox: SandboxFactory) -> Sandbox:
    return make_sandbox()
