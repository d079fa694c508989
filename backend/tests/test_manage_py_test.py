"""`python manage.py test` hands over to pytest (config/test_runner.py), since Django developers type that
first: labels in either form, options translated, pytest's verdict is the command's exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config import test_runner
from config.test_runner import PytestTestRunner, pytest_arguments, pytest_target

BACKEND_DIR = Path(__file__).resolve().parents[1]
HEALTH_TEST = "sofia_checkout/core/tests/test_health.py"


def manage_py_test(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "PYTEST_ADDOPTS": "-p no:cacheprovider",
        # Its own SQLite test database: on PostgreSQL the child would create and drop the `test_...`
        # database this very session is using.
        "DATABASE_URL": "",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "test", *args],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("label", "target"),
    [
        ("sofia_checkout.core.tests.test_health", HEALTH_TEST),
        (
            "sofia_checkout.core.tests.test_health.test_probes_answer_whatever_the_host",
            f"{HEALTH_TEST}::test_probes_answer_whatever_the_host",
        ),
        ("sofia_checkout.core.tests", "sofia_checkout/core/tests"),
        (HEALTH_TEST, HEALTH_TEST),
        (f"{HEALTH_TEST}::test_x", f"{HEALTH_TEST}::test_x"),
        ("tests", "tests"),
    ],
)
def test_django_labels_become_pytest_targets(label: str, target: str) -> None:
    assert pytest_target(label) == target


def test_django_options_become_pytest_options() -> None:
    assert pytest_arguments([], verbosity=0) == ["-q"]
    assert pytest_arguments([], verbosity=1) == []
    assert pytest_arguments([], verbosity=3) == ["-vv"]
    assert pytest_arguments(["tests"], failfast=True, keepdb=True, patterns=["a", "b"]) == [
        "tests",
        "-x",
        "--reuse-db",
        "-k",
        "a or b",
    ]


def test_manage_py_test_runs_the_pytest_suite() -> None:
    ran = manage_py_test("sofia_checkout.core.tests.test_health", "-v", "2")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "test session starts" in ran.stdout  # pytest's header, not unittest's
    assert "settings: config.test_settings" in ran.stdout
    assert f"{HEALTH_TEST}::test_probes_answer_whatever_the_host_while_everything_else_checks_it PASSED" in (
        ran.stdout
    )
    assert "2 passed" in ran.stdout  # the two tests of test_health.py


def test_pytests_exit_status_is_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append({"command": command, **kwargs})
        return subprocess.CompletedProcess(command, returncode=5)  # pytest: no tests collected

    monkeypatch.setattr(test_runner.subprocess, "run", run)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings")
    failures = PytestTestRunner(verbosity=2, failfast=True).run_tests(["sofia_checkout.core"])
    assert failures == 5  # Django's test command exits 1 on any non-zero count
    (call,) = calls
    assert call["command"] == [sys.executable, "-m", "pytest", "sofia_checkout/core", "-v", "-x"]
    assert call["cwd"] == BACKEND_DIR
    # manage.py's settings module must not reach pytest, which takes its own from pyproject.toml.
    assert "DJANGO_SETTINGS_MODULE" not in call["env"]
