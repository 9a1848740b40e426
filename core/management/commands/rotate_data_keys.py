"""`complaintdesk rotate_data_keys [--dry-run] [--batch N] [--lookup] [--new-key]`: re-encrypt every
encrypted column under the first key of COMPLAINTDESK_DATA_KEYS and, with --lookup, recompute the
look-up hashes under COMPLAINTDESK_LOOKUP_KEY (core.fieldcrypt; docs/privacy.md, "Key rotation")."""

from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

from core.fieldcrypt import DataKeyError, RewriteCounts, encrypted_fields, hash_fields, keyring, new_key, rewrite_model

# A progress line every this many batches (and one at the end of each table).
PROGRESS_EVERY = 10


def sealed_models() -> list[type[models.Model]]:
    """Every model with an encrypted column or a look-up hash, in a stable order."""
    found = [m for m in apps.get_models() if encrypted_fields(m) or hash_fields(m)]
    return sorted(found, key=lambda m: m._meta.label)


class Command(BaseCommand):
    # A malformed key is reported by handle() as a CommandError (and --new-key must work to fix it).
    requires_system_checks: list[str] = []
    help = (
        "Re-encrypt the personal data columns under the first key of COMPLAINTDESK_DATA_KEYS (values under "
        "the other keys, and any plain text left by raw SQL) and, with --lookup, recompute every look-up hash "
        "under COMPLAINTDESK_LOOKUP_KEY. In batches by id; interrupted, run it again: it resumes. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would change; write nothing")
        parser.add_argument("--batch", type=int, default=1000, help="rows per transaction (default 1000)")
        parser.add_argument(
            "--lookup",
            action="store_true",
            help="recompute every look-up hash (after COMPLAINTDESK_LOOKUP_KEY changed)",
        )
        parser.add_argument("--new-key", action="store_true", help="print a new random key and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(new_key())
            return
        batch = options["batch"]
        if batch < 1 or batch > 100_000:
            raise CommandError("--batch: between 1 and 100000 rows.", returncode=2)
        try:
            ring = keyring()
        except ImproperlyConfigured as error:
            raise CommandError(str(error), returncode=2) from error
        dry_run, lookup = options["dry_run"], options["lookup"]
        if ring.derived:
            self.stderr.write(
                self.style.WARNING(
                    "COMPLAINTDESK_DATA_KEYS is not set: the keys are derived from SECRET_KEY (local use only)."
                )
            )
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}encrypting under data key {ring.encrypt_id} "
            f"(keys: {ring.describe()}){'; recomputing look-up hashes' if lookup else ''}."
        )
        batches = {"n": 0}

        def progress(model: type[models.Model], counts: RewriteCounts, last: Any) -> None:
            batches["n"] += 1
            if batches["n"] % PROGRESS_EVERY == 0:
                self.stdout.write(f"  {model._meta.label}: {counts.rows} rows read, up to id {last}")

        totals: dict[str, RewriteCounts] = {}
        for model in sealed_models():
            batches["n"] = 0
            try:
                counts = rewrite_model(model, hashes=lookup, batch=batch, dry_run=dry_run, progress=progress)
            except DataKeyError as error:
                done = ", ".join(totals) or "none"
                raise CommandError(
                    f"{model._meta.label}: {error} Tables finished before this one: {done}; "
                    "batches already written stay written, and a second run resumes.",
                    returncode=2,
                ) from error
            totals[model._meta.label] = counts
            self.stdout.write(
                f"{model._meta.label}: {counts.rows} rows, {counts.rows_changed} "
                f"{'would change' if dry_run else 'changed'} ({counts.rekeyed} values re-encrypted, "
                f"{counts.sealed} plain values encrypted, {counts.hashes} look-up hashes)"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        self._record(ring.encrypt_id, list(ring.ciphers), lookup, totals)
        self.stdout.write(self.style.SUCCESS(f"Done: every value is under data key {ring.encrypt_id}."))

    def _record(self, key: str, keys: list[str], lookup: bool, totals: dict[str, RewriteCounts]) -> None:
        """The run, in the security event log (key ids and counts, never a key or a value)."""
        from accounts.actions import record
        from accounts.choices import SecurityEventKind

        record(
            SecurityEventKind.DATA_KEYS_ROTATED,
            username="system",
            command="rotate_data_keys",
            encrypt_key=key,
            keys=keys,
            lookup=lookup,
            tables={
                label: {
                    "rows": c.rows,
                    "changed": c.rows_changed,
                    "rekeyed": c.rekeyed,
                    "sealed": c.sealed,
                    "hashes": c.hashes,
                }
                for label, c in totals.items()
            },
        )
