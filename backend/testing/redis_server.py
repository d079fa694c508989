"""A throwaway redis-server on a free port (nothing saved) for tests of what replicas share through Redis."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from testing.net import free_port, served


def _answers(port: int) -> bool:
    result = subprocess.run(  # noqa: S603 - test code runs Debian's redis-cli
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() == "PONG"


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """Start redis-server (scripts/install-system-deps.sh installs it); yields its URL."""
    if shutil.which("redis-server") is None:
        raise AssertionError("redis-server is not installed: run scripts/install-system-deps.sh")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(workdir), "--daemonize", "no"]
    with served(
        command,
        cwd=workdir,
        env={"PATH": os.environ["PATH"]},
        log=workdir / "redis.log",
        ready=lambda: _answers(port),
        timeout=15,
    ):
        yield f"redis://127.0.0.1:{port}/0"
