"""complaintdesk build_similarity_index [--update]: (re)build the similar-cases index (intelligence.similar).
The scheduler keeps it current; this is for a first build, after a big import, or to refit."""

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from intelligence import similar


class Command(BaseCommand):
    help = "Fit the projection on the cases and index them all (or, with --update, add the new ones)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--update", action="store_true", help="only add cases received since the last run")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        result = similar.update() if options["update"] else similar.build(seed=options["seed"])
        result["seconds"] = round(time.perf_counter() - started, 2)
        self.stdout.write(json.dumps(result))
