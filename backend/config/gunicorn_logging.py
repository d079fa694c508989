"""gunicorn's own lines (access and error) as JSON objects shaped like the app's logs.

Each value is encoded by the JSON formatter, so a crafted URL (gunicorn decodes %22 into a quote) cannot
break a line or forge a field, as a filled-in text template could.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_RENAME = {"asctime": "time", "levelname": "level", "name": "logger"}


class JsonLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter(_FORMAT, rename_fields=_RENAME))

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        status = str(atoms.get("s", ""))
        self.access_log.info(
            "request",
            extra={
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "status": int(status) if status.isdigit() else status,
                "bytes": atoms.get("B"),
                "duration_ms": atoms.get("M"),
                "remote_addr": atoms.get("h"),
                "request_id": atoms.get("{x-request-id}o", "-"),
            },
        )
