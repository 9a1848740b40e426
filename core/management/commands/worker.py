"""`complaintdesk worker`: the task worker (django-tasks-db's db_worker) and the scheduler loop."""

import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from core import scheduler


class Command(BaseCommand):
    help = "Run the background task worker and the periodic scheduler (SLA ticks, ledger checkpoints)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--interval", type=float, default=None, help="scheduler period in seconds")
        parser.add_argument("--no-scheduler", action="store_true")
        parser.add_argument("--once", action="store_true", help="run the periodic jobs once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(str(scheduler.run_once("once")))
            return
        stop = threading.Event()
        if not options["no_scheduler"]:
            threading.Thread(target=scheduler.loop, args=(stop, options["interval"]), daemon=True).start()
        try:
            call_command("db_worker")
        finally:
            stop.set()
