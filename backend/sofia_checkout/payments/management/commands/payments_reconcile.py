"""`python manage.py payments_reconcile [--loop SECONDS]`: run from cron or a compose service."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.provider_limits import Priority, provider_priority

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Expire abandoned holds and re-poll payment sessions stuck in open/processing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=float, default=0, help="Repeat every N seconds (0: run once).")
        parser.add_argument(
            "--heartbeat", default="", help="Touch this file after each successful pass (a health check)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        heartbeat = Path(options["heartbeat"]) if options["heartbeat"] else None
        if not options["loop"]:
            self._pass(heartbeat)  # once (cron): a failure is the exit status
            return
        while True:
            try:
                self._pass(heartbeat)
            except Exception:
                # A long-running loop outlives a database restart or a bad pass; the next pass retries.
                logger.exception("reconcile pass failed")
            time.sleep(options["loop"])

    def _pass(self, heartbeat: Path | None) -> None:
        # Shoppers first: the job takes only provider turns nobody is waiting for.
        with provider_priority(Priority.BACKGROUND):
            report = payments_reconcile()
        self.stdout.write(json.dumps({"reconcile": asdict(report)}))
        if heartbeat is not None:
            heartbeat.touch()
