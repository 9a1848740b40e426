from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analytics.rollups import backfill


class Command(BaseCommand):
    help = "Rebuild CaseFact and DailyRollup from all complaints and move the rollup cursor to the ledger head."

    def handle(self, *args: Any, **options: Any) -> None:
        result = backfill()
        if result.get("busy"):
            raise CommandError("the rollups job is running; try again when it has finished")
        self.stdout.write(f"cases={result['cases']} days={result['days']} rollup_rows={result['rows']}")
