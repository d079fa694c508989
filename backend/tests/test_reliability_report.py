"""docs/reliability.md names the test that proves each case: every name there must exist, so the report
cannot point at a test that was renamed or deleted."""

from __future__ import annotations

import re
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPORT = BACKEND_DIR.parent / "docs" / "reliability.md"


def _defined_tests() -> set[str]:
    names: set[str] = set()
    for path in BACKEND_DIR.rglob("test_*.py"):
        if ".venv" not in path.parts:
            names.update(re.findall(r"^\s*def (test_\w+)\(", path.read_text(), flags=re.MULTILINE))
    return names


def _test_files() -> set[str]:
    return {path.name for path in BACKEND_DIR.rglob("test_*.py") if ".venv" not in path.parts}


def test_every_test_the_report_names_exists() -> None:
    text = REPORT.read_text()
    named = set(re.findall(r"::(test_\w+)", text))
    files = set(re.findall(r"(test_\w+\.py)", text))
    assert len(named) >= 30, "the report should name the tests that prove its cases"
    assert not named - _defined_tests(), (
        f"docs/reliability.md names missing tests: {sorted(named - _defined_tests())}"
    )
    assert not files - _test_files(), (
        f"docs/reliability.md names missing files: {sorted(files - _test_files())}"
    )
