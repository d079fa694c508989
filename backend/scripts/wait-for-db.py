"""Pre-flight for scripts/start-backend.sh: load the settings (refusing a bad configuration with a clear
message) and wait, a bounded number of times, until the database accepts a connection.

Exit codes: 0 ready; 2 configuration refused; 3 database still unreachable after the retries.
Environment: WAIT_FOR_DB_ATTEMPTS (default 30), WAIT_FOR_DB_INTERVAL seconds (default 1).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.utils import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _say(message: str) -> None:
    sys.stderr.write(f"start-backend: {message}\n")
    sys.stderr.flush()


def main() -> int:
    try:
        django.setup()
    except ImproperlyConfigured as exc:
        _say(f"configuration refused: {exc}")
        return 2

    attempts = max(1, int(os.environ.get("WAIT_FOR_DB_ATTEMPTS", "") or "30"))
    interval = float(os.environ.get("WAIT_FOR_DB_INTERVAL", "") or "1")
    vendor = connection.vendor
    for attempt in range(1, attempts + 1):
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if attempt == attempts:
                _say(f"database ({vendor}) unreachable after {attempts} attempts: {exc}")
                return 3
            _say(f"waiting for the database ({vendor}), attempt {attempt}/{attempts}")
            time.sleep(interval)
        else:
            connection.close()
            return 0
    return 3


if __name__ == "__main__":
    sys.exit(main())
