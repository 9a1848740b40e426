import json
from typing import Any

from django.core.management.base import BaseCommand

from ledger import chain


class Command(BaseCommand):
    help = (
        "Print the head of the checkpoint chain as JSON: the daily digest an operator keeps or mails outside "
        "the system (verify_ledger --digest checks it later)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(chain.digest()))
