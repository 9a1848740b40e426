import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from complaints import demo
from complaints.models import Complaint
from core.models import Region


class Command(BaseCommand):
    help = (
        "Demo data: departments, an org-unit tree, one user per role (password "
        f"{demo.PASSWORD!r}) and realistic complaints in every state, channel and category, made "
        "through the real lifecycle actions (the ledger verifies). For demonstrations only."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when there are complaints already (for `make run`)"
        )
        parser.add_argument("--count", type=int, default=demo.DEFAULT_COUNT, help="complaints to make (default 300)")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="random seed (same seed, same stories)")
        parser.add_argument(
            "--run-hooks",
            action="store_true",
            help="enqueue the after-event tasks (mail, webhooks, classification) for every seeded event",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Complaint.objects.exists():
            self.stdout.write("seed_demo: complaints exist already; nothing to do (--if-empty).")
            return
        if options["count"] < 0:
            raise CommandError("--count must be 0 or more")
        if not Region.objects.exists():
            raise CommandError("No GB/T 2260 regions loaded: run `complaintdesk load_regions` first.")
        started = time.monotonic()
        org = demo.ensure_org()
        states = demo.generate(options["count"], options["seed"], run_hooks=options["run_hooks"], org=org)
        _seed_apps(options["seed"])
        seconds = time.monotonic() - started
        classifier = _demo_classifier()
        intelligence = _demo_signals_and_similarity()
        made = ", ".join(f"{k} {v}" for k, v in sorted(org.created.items()) if v) or "nothing new"
        self.stdout.write(f"Organisation: {made}.")
        by_state = ", ".join(f"{status} {n}" for status, n in sorted(states.items()))
        self.stdout.write(
            f"Complaints: {sum(states.values())} demo complaints in {seconds:.1f} s"
            + (f" ({by_state})." if by_state else ".")
        )
        if classifier:
            self.stdout.write(classifier)
        self.stdout.write(intelligence)
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                "Demo users, for demonstrations only (anyone who reads the README knows these passwords):"
            )
        )
        rows = [("username", "role", "scope", "password")]
        for user in demo.USERS:
            scope = {"company": demo.COMPANY, "": "—"}.get(
                user.scope, next((n for c, n, _en, _d in demo.DEPARTMENTS if c == user.scope), user.scope)
            )
            role = user.role + (" (superuser)" if user.superuser else "")
            rows.append((user.username, role, scope, demo.PASSWORD))
        widths = [max(_width(row[i]) for row in rows) for i in range(4)]
        for n, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))


def _demo_classifier() -> str:
    """A category model trained on the demo cases, active, with its predictions for the new cases,
    so that the case page shows classification with its confidence from the start."""
    from intelligence.actions import activate
    from intelligence.models import ClassifierModel
    from intelligence.tasks import predict_for, train_from_cases

    if ClassifierModel.objects.filter(target="category", active=True).exists():
        return ""
    model_id = train_from_cases.call("category", None)
    if model_id is None:
        return "Classifier: not enough categorised demo cases to train one."
    model = activate(ClassifierModel.objects.get(pk=model_id))
    new_cases = list(Complaint.objects.filter(is_demo=True, status="new").values_list("pk", flat=True))
    for pk in new_cases:
        predict_for(pk)
    rows = model.training.get("rows", "?")
    return (
        f"Classifier: category model v{model.version} trained on {rows} cases, active; "
        f"{len(new_cases)} new cases classified."
    )


# The apps that add their part of the story to the demo cases (coordination tasks and findings,
# negotiation threads with their agreements, a regulator referral and a crisis case).
DEMO_SEEDS = (
    "investigation.demo",
    "resolutions.demo",
    "dossier.demo",
    # --- issue 6 apps (each app edits only its own line) ---
    "notifications.demo",
    "customers.demo",
    "feedback.demo",
    # --- end issue 6 apps ---
    # --- issue 8 apps (each app edits only its own line) ---
    "analytics.demo",
    "improvement.demo",
    "risk.demo",
    # --- end issue 8 apps ---
)


def _seed_apps(seed: int) -> None:
    """Each app's `seed(complaints, rng)`, with the after-event hooks off as for the rest of the demo."""
    import random
    from importlib import import_module

    from django.test.utils import override_settings

    rng = random.Random(seed)
    with override_settings(TASKS=demo.DUMMY_TASKS):
        for module in DEMO_SEEDS:
            complaints = list(Complaint.objects.filter(is_demo=True).order_by("pk"))
            import_module(module).seed(complaints, rng)


def _demo_signals_and_similarity() -> str:
    """The text signals of the demo cases that intake did not read (they are history: read, not
    applied), and the similar-cases index, so that the case page shows both from the start."""
    from intelligence import similar
    from intelligence.models import CaseSignals
    from intelligence.tasks import read_signals

    unread = Complaint.objects.filter(is_demo=True).exclude(pk__in=CaseSignals.objects.values("complaint_id"))
    read = sum(1 for complaint in unread.iterator() if read_signals(complaint, {}))
    built = similar.build()
    return f"Text signals read for {read} cases; similar-cases index: {built.get('indexed', 0)} cases."


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
