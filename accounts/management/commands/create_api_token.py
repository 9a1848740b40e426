from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.actions import issue_api_token
from accounts.choices import Scope
from accounts.models import User
from core.errors import ValidationError


class Command(BaseCommand):
    help = (
        "Issue an API token for a staff user; the raw token is printed once and only its hash is kept. "
        "Scopes: read, write, intake, analytics (repeat --scope; default: all); expiry in days."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--scope", action="append", choices=Scope.values, dest="scopes")
        parser.add_argument(
            "--days", type=int, default=None, help="lifetime in days (default: COMPLAINTDESK_API_TOKEN_DAYS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['username']!r}")
        days = options["days"] or settings.COMPLAINTDESK_API_TOKEN_DAYS or settings.COMPLAINTDESK_API_TOKEN_MAX_DAYS
        try:
            _, raw = issue_api_token(user, options["name"], options["scopes"] or Scope.values, days)
        except ValidationError as invalid:
            raise CommandError("; ".join(f"{field}: {message}" for field, message in invalid.errors.items())) from None
        self.stdout.write(raw)
