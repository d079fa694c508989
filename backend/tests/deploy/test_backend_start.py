"""scripts/start-backend.sh, the container's command, run natively: gunicorn with production settings on a
temp SQLite file; `check --deploy` is clean; bad configurations stop start-up with a clear message."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from testing.net import free_port, served
from tests.deploy.helpers import BACKEND_DIR, production_env

START = BACKEND_DIR / "scripts" / "start-backend.sh"
START_COMMAND = ["bash", str(START)]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _get(url: str, host: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects (an https redirect must be seen, not followed)."""
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 - loopback test URL
    try:
        with _opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def _ready(url: str) -> bool:
    try:
        return _get(f"{url}/api/ready/")[0] == 200
    except OSError:
        return False


def test_start_script_migrates_and_serves_with_gunicorn(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "db.sqlite3"
    log = tmp_path / "backend.log"
    env = production_env(
        DATABASE_URL=f"sqlite:///{db}",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    url = f"http://127.0.0.1:{port}"
    with served(
        ["bash", str(START)], cwd=BACKEND_DIR, env=env, log=log, ready=lambda: _ready(url), timeout=40
    ):
        status, headers, body = _get(f"{url}/api/ready/")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
        status, headers, body = _get(f"{url}/api/health/")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert headers["Server"] == "gunicorn"
        assert headers["X-Request-ID"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        # DEBUG is off: a host outside DJANGO_ALLOWED_HOSTS is refused, errors are the JSON envelope.
        assert _get(f"{url}/api/config/", host="evil.example")[0] == 400
        assert _get(f"{url}/api/ready/", host="10.0.3.7:8000")[0] == 200  # probes by address still answer
        status, _, body = _get(f"{url}/api/nope/")
        assert status == 404
        assert json.loads(body)["code"] == "not_found"
        # A crafted path (gunicorn decodes %22 to a quote) can neither break the JSON line nor forge a field.
        assert _get(f"{url}/x%22,%22level%22:%22CRITICAL")[0] == 404
    output = log.read_text()
    assert "Applying payments.0001_initial" in output  # MIGRATE_ON_START defaults to 1
    assert "Starting gunicorn" in output
    assert db.exists()
    # The compose `reconcile` service's command, against the same migrated database.
    reconcile = _manage(env, "payments_reconcile")
    assert reconcile.returncode == 0, reconcile.stderr
    assert '"reconcile"' in reconcile.stdout
    access = [json.loads(line) for line in output.splitlines() if '"logger": "gunicorn.access"' in line]
    assert access
    assert all(isinstance(line["status"], int) and line["request_id"] for line in access)
    crafted = [line for line in access if line["path"].startswith("/x")]
    assert [(c["path"], c["level"], c["status"]) for c in crafted] == [('/x","level":"CRITICAL', "INFO", 404)]
    assert any('"logger": "gunicorn.error"' in line for line in output.splitlines())  # start-up lines too


def test_with_the_ssl_redirect_on_health_probes_still_answer_over_http(tmp_path: Path) -> None:
    """Production (DJANGO_SECURE_SSL_REDIRECT=1): probes over plain http get 200, the API gets 301."""
    port = free_port()
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        HOST="127.0.0.1",
        PORT=str(port),
        MIGRATE_ON_START="0",
    )
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "backend.log"
    with served(
        ["bash", str(START)], cwd=BACKEND_DIR, env=env, log=log, ready=lambda: _ready(url), timeout=40
    ):
        assert _get(f"{url}/api/health/")[0] == 200
        status, headers, _ = _get(f"{url}/api/config/")
        assert status == 301, log.read_text()
        assert headers["Location"].startswith("https://")


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=BACKEND_DIR, env=env, capture_output=True, text=True, check=False, timeout=60
    )


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "manage.py", *args], env)


def test_check_deploy_is_clean_with_production_values(tmp_path: Path) -> None:
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_ALLOWED_HOSTS="checkout.example.com",
        DJANGO_SECURE_PROXY="1",
    )
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_collectstatic_works_with_the_build_only_secret(tmp_path: Path) -> None:
    """What the image build runs (Dockerfile), as a dry run so the checkout stays clean."""
    env = production_env(DJANGO_SECRET_KEY="build-only-collectstatic-not-a-secret")
    result = _manage(env, "collectstatic", "--noinput", "--dry-run", "--verbosity", "0")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off"),
        (
            {"PAYMENTS_LIVE_MODE": "1", "STRIPE_SECRET_KEY": "sk_test_x"},
            "PAYMENTS_LIVE_MODE=1 needs a live STRIPE_SECRET_KEY",
        ),
        (
            {"STRIPE_API_BASE": "https://api.stripe.com"},
            "STRIPE_SECRET_KEY must be set to a real value when STRIPE_API_BASE is a real host",
        ),
    ],
    ids=["no-secret-key", "live-mode-with-test-key", "real-host-with-sandbox-secret"],
)
def test_start_up_refuses_a_bad_configuration(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PORT=str(free_port()), **overrides
    )
    result = _run(START_COMMAND, env)
    assert result.returncode != 0
    assert f"start-backend: configuration refused: {message}" in result.stderr
    assert "Starting gunicorn" not in result.stdout + result.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # stopped before migrating


def test_start_up_gives_up_on_an_unreachable_database(tmp_path: Path) -> None:
    env = production_env(
        DATABASE_URL=f"postgres://sofia:x@127.0.0.1:{free_port()}/sofia",
        WAIT_FOR_DB_ATTEMPTS="2",
        WAIT_FOR_DB_INTERVAL="0.1",
    )
    result = _run(START_COMMAND, env)
    assert result.returncode == 3
    assert "start-backend: database (postgresql) unreachable after 2 attempts" in result.stderr
