"""`complaintdesk risk_assess`: run the day's risk assessment now (the scheduler's job does it daily)."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from risk.actions import assess_all


class Command(BaseCommand):
    help = "Assess the risk of every product, org unit and department (once a day; --force runs it again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="the run's day, YYYY-MM-DD (default: today); the window ends the day before")
        parser.add_argument("--force", action="store_true", help="run again although the day's run is done")

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options["day"]:
            try:
                day = date.fromisoformat(options["day"])
            except ValueError:
                raise CommandError("--day: expected YYYY-MM-DD") from None
        result = assess_all(day=day, force=options["force"])
        if result.get("done"):
            self.stdout.write("already assessed today (use --force to run again)")
        else:
            self.stdout.write(
                f"assessed {result['assessed']}, not assessed (too few cases) {result['not_assessed']}, "
                f"alerts {result['alerts']}"
            )
