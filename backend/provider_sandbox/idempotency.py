"""Idempotency keys as both providers keep them.

A key remembers what it was first used for (its scope: an endpoint, or "create"/"refund") and a fingerprint
of the parameters, and answers a later use with the first result. A use for another scope or with other
parameters is `KeyReused`; each provider words that refusal itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

# Both providers refuse longer keys (Stripe documents 255; Truemed's sandbox is given the same bound).
MAX_KEY_LENGTH = 255

Result = TypeVar("Result")


def fingerprint(value: Any) -> str:
    """A stable digest of JSON-like parameters (the order of a dict's keys does not matter)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class KeyReused(Exception):
    """The key was first used for another scope or with other parameters."""

    def __init__(self, key: str, *, first_scope: str, scope: str) -> None:
        super().__init__(key)
        self.key, self.first_scope, self.scope = key, first_scope, scope

    @property
    def other_scope(self) -> bool:
        return self.first_scope != self.scope


@dataclass(frozen=True)
class _Saved(Generic[Result]):
    scope: str
    fingerprint: str
    result: Result


class IdempotencyKeys(Generic[Result]):
    """The results saved under each key (kept until a reset)."""

    def __init__(self) -> None:
        self._saved: dict[str, _Saved[Result]] = {}

    def find(self, key: str, *, scope: str, fingerprint: str) -> Result | None:
        """The result saved under `key`, or None if the key is new; KeyReused if it was used otherwise."""
        saved = self._saved.get(key)
        if saved is None:
            return None
        if saved.scope != scope or saved.fingerprint != fingerprint:
            raise KeyReused(key, first_scope=saved.scope, scope=scope)
        return saved.result

    def save(self, key: str, *, scope: str, fingerprint: str, result: Result) -> None:
        self._saved[key] = _Saved(scope, fingerprint, result)

    def clear(self) -> None:
        self._saved.clear()
