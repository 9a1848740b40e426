"""Production serving: gunicorn with several worker processes; static files through whitenoise."""

import multiprocessing
from typing import Any

from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from config.wsgi import application

        return application


def _post_fork(server: Any, worker: Any) -> None:
    # Each process opens its own database connections; load jieba's dictionary before traffic.
    from django.db import connections

    connections.close_all()
    from complaints.search import warm_up

    warm_up()


class Command(BaseCommand):
    help = "Serve ComplaintDesk in production (gunicorn): --bind HOST:PORT --workers N"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=min(2 * multiprocessing.cpu_count() + 1, 8))
        parser.add_argument("--threads", type=int, default=1)
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--access-log", action="store_true", help="log each request to stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = {
            "bind": options["bind"],
            "workers": options["workers"],
            "threads": options["threads"],
            "timeout": options["timeout"],
            "preload_app": True,
            "post_fork": _post_fork,
            "worker_class": "gthread" if options["threads"] > 1 else "sync",
            "accesslog": "-" if options["access_log"] else None,
            "errorlog": "-",
            "backlog": 2048,
        }
        _Server(settings).run()
