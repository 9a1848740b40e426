import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ledger import chain, digests


class Command(BaseCommand):
    help = (
        "The daily digest an operator keeps outside the system: the head of the checkpoint chain, the number of "
        "ledger events and the time, as JSON (verify_ledger --against checks the ledger still extends it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            metavar="DIR",
            help="Write it to DIR/ledger-digest-YYYY-MM-DD.json (today's local date) instead of printing it. An "
            "existing file is never overwritten: another digest the same day goes to ledger-digest-YYYY-MM-DD-2.json.",
        )
        parser.add_argument(
            "--mail",
            action="store_true",
            help="Also mail it to COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS.",
        )
        parser.add_argument(
            "--seal",
            action="store_true",
            help="First write a checkpoint of everything committed so far (seal_ledger --settle 0).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        recipients = list(settings.COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS)
        if options["mail"] and not recipients:
            raise CommandError("--mail: COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS is not set")
        if options["seal"]:
            chain.seal(settle=timedelta(0))
        digest = digests.take()
        day = timezone.localdate()
        if options["out"]:
            try:
                exported = digests.export(digest, options["out"], day)
            except OSError as exc:
                raise CommandError(f"--out: cannot write to {options['out']} ({exc})") from exc
            if exported.written:
                self.stdout.write(f"Digest of checkpoint {digest['seq']} written to {exported.path}")
            else:
                self.stdout.write(f"Digest of checkpoint {digest['seq']} already in {exported.path} (left as it is)")
        else:
            self.stdout.write(json.dumps(digest))
        if options["mail"]:
            digests.mail(digest, recipients, day)
            self.stdout.write(f"Mailed to {', '.join(recipients)}")
