from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ledger import chain


class Command(BaseCommand):
    help = "Write a checkpoint sealing the head of every case chain that moved (the worker does this every minute)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--settle",
            type=float,
            default=None,
            help=f"Leave events younger than this many seconds to the next checkpoint (default "
            f"{chain.CHECKPOINT_SETTLE.total_seconds():g}; 0 seals everything committed now).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settle = None if options["settle"] is None else timedelta(seconds=options["settle"])
        checkpoint = chain.seal(settle=settle)
        if checkpoint is None:
            self.stdout.write("Nothing to seal.")
            return
        self.stdout.write(
            f"Checkpoint {checkpoint.seq} seals {len(checkpoint.heads)} case head(s) up to event id "
            f"{checkpoint.last_event_id}: {checkpoint.hash}"
        )
