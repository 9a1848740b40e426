from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Export a case dossier (PDF + evidence files + ledger proof + offline verifier) as one ZIP for a court "
        "or a regulator. The export is recorded in the case's ledger (export_dossier)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tracking_no")
        parser.add_argument("--out", required=True, help="The ZIP file to write, or a folder to write it into.")
        parser.add_argument(
            "--user",
            help="Export as this staff user (their right to export the case is checked); by default the "
            "operator's export is recorded as the system's.",
        )
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Do not seal the case's head first when no checkpoint covers it yet (the dossier then says so).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from dossier import export

        complaint = Complaint.objects.filter(tracking_no=options["tracking_no"].strip().upper()).first()
        if complaint is None:
            raise CommandError(f"no case {options['tracking_no']}")
        actor = Actor.system()
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['user']}")
            actor = Actor.staff(user)
        try:
            built = export.build(complaint, actor=actor, seal=not options["no_seal"])
        except (PermissionDenied, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        path = export.write(built, options["out"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Dossier of {complaint.tracking_no} written to {path} (manifest {built.manifest_sha256})."
            )
        )
        self.stdout.write(f"Verify offline: python3 verify.py {path.name}   (or: complaintdesk verify_dossier {path})")
