"""The deployment tests have no fixtures of their own; their helpers are in tests/deploy/helpers.py.

These names stay importable from here only until test_compose.py imports them from the helpers module.
"""

from tests.deploy.helpers import BACKEND_DIR, REPO_DIR, require_binary

__all__ = ["BACKEND_DIR", "REPO_DIR", "require_binary"]
