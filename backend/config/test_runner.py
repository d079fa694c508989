"""`python manage.py test` runs the pytest suite: the tests are pytest tests (fixtures, respx, markers) that
Django's unittest-based DiscoverRunner cannot run.

pytest runs in a child process with the settings module pytest is configured with (pyproject.toml:
config.test_settings), not the one manage.py loaded: Django is already set up in this process, and its
settings cannot be swapped for the test settings afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from argparse import ArgumentParser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BACKEND_DIR = Path(__file__).resolve().parent.parent


def pytest_target(label: str, root: Path = BACKEND_DIR) -> str:
    """A Django test label as pytest wants it.

    A path (or pytest node id) stays as it is; a dotted label (`pkg.module`, `pkg.module.test_name`,
    `pkg.module.Class.test_name`) becomes `pkg/module.py[::Class::test_name]` or a package directory.
    """
    if "/" in label or "::" in label or label.endswith(".py") or (root / label).exists():
        return label
    parts = label.split(".")
    for end in range(len(parts), 0, -1):
        base = Path(*parts[:end])
        if (root / base).with_suffix(".py").is_file():
            return "::".join([f"{base}.py", *parts[end:]])
        if end == len(parts) and (root / base).is_dir():
            return str(base)
    return label


def pytest_arguments(
    labels: Sequence[str],
    *,
    verbosity: int = 1,
    failfast: bool = False,
    keepdb: bool = False,
    patterns: Sequence[str] = (),
    root: Path = BACKEND_DIR,
) -> list[str]:
    """pytest's command line for `manage.py test` with these labels and options."""
    args = [pytest_target(label, root) for label in labels]
    if verbosity == 0:
        args.append("-q")
    elif verbosity > 1:
        args.append("-" + "v" * (verbosity - 1))
    if failfast:
        args.append("-x")
    if keepdb:
        args.append("--reuse-db")
    if patterns:
        args += ["-k", " or ".join(patterns)]
    return args


class PytestTestRunner:
    """TEST_RUNNER that hands `manage.py test [labels]` over to pytest; its exit status is the result."""

    def __init__(
        self,
        verbosity: int = 1,
        failfast: bool = False,
        keepdb: bool = False,
        test_name_patterns: Sequence[str] | None = None,
        **_: Any,
    ) -> None:
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb
        self.patterns = list(test_name_patterns or ())

    @classmethod
    def add_arguments(cls, parser: ArgumentParser) -> None:
        parser.add_argument("--failfast", action="store_true", help="Stop at the first failure (pytest -x).")
        parser.add_argument(
            "--keepdb", action="store_true", help="Keep the test database between runs (pytest --reuse-db)."
        )
        parser.add_argument(
            "-k",
            action="append",
            dest="test_name_patterns",
            help="Only tests matching this pytest -k expression; repeat for any of several.",
        )

    def run_tests(self, test_labels: Sequence[str], **_: Any) -> int:
        """Run pytest; the number Django reads as failures is pytest's exit status (0: all passed)."""
        args = pytest_arguments(
            test_labels,
            verbosity=self.verbosity,
            failfast=self.failfast,
            keepdb=self.keepdb,
            patterns=self.patterns,
        )
        env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
        command = [sys.executable, "-m", "pytest", *args]
        return subprocess.run(command, cwd=BACKEND_DIR, env=env, check=False).returncode  # noqa: S603
