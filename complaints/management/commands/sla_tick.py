import json
from typing import Any

from django.core.management.base import BaseCommand

from complaints.actions import sla_tick


class Command(BaseCommand):
    help = "Warn at 80 %, escalate at breach, archive old closed cases (also run by the worker's scheduler)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(sla_tick()))
