"""Fixtures for the payment tests (the shared ones, card_checkout and hsa_checkout included, are in the
backend's root conftest)."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def csrf_client() -> Client:
    # Webhooks come without CSRF tokens: prove the views do not need them.
    return Client(enforce_csrf_checks=True)
