"""Test settings: development defaults, generous throttles (throttling tests tighten them), a file SQLite DB
for tests that use several threads (an in-memory database is private to one connection)."""

import os
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("THROTTLE_BOOKING", "10000/min")
os.environ.setdefault("THROTTLE_PAYMENT_SESSION", "10000/min")
os.environ.setdefault("THROTTLE_SYNC", "10000/min")
os.environ.setdefault("THROTTLE_APPOINTMENT_READ", "10000/min")
os.environ.setdefault("THROTTLE_WEBHOOK_REJECTED", "10000/min")
os.environ.setdefault("PROVIDER_MAX_RETRIES", "0")
os.environ.setdefault("PROVIDER_TIMEOUT_SECONDS", "2")
# Our provider rate limits are off unless a test turns them on (tests/ and payments/tests/test_rate_limits*).
os.environ.setdefault("STRIPE_RATE_LIMIT_PER_SECOND", "0")
os.environ.setdefault("STRIPE_ENDPOINT_RATE_LIMIT_PER_SECOND", "0")
os.environ.setdefault("TRUEMED_RATE_LIMIT_PER_SECOND", "0")
os.environ.setdefault("TRUEMED_ENDPOINT_RATE_LIMIT_PER_SECOND", "0")

from config.settings import *  # noqa: F403
from config.settings import DATABASES

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"sofia-test-{os.getpid()}.sqlite3")
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# `python manage.py test` runs the pytest suite (see config/test_runner.py).
TEST_RUNNER = "config.test_runner.PytestTestRunner"
