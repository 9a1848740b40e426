"""Production serving: gunicorn with several worker processes; static files through whitenoise."""

import multiprocessing
import os
import shutil
import sys
import tempfile
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


def _child_exit(server: Any, worker: Any) -> None:
    # A dead worker's live gauges are dropped; its counters stay in the sums (prometheus_client docs).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _metrics_directory() -> str:
    """prometheus_client's multi-process mode: every worker process writes its counters to files in one
    folder, and /metrics adds them up. It must be set before prometheus_client is first imported (the
    application is loaded after this, preload_app), and start empty."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            os.remove(os.path.join(given, name))
        return given
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before `serve` could set PROMETHEUS_MULTIPROC_DIR")
    path = tempfile.mkdtemp(prefix="complaintdesk-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


class Command(BaseCommand):
    help = "Serve ComplaintDesk in production (gunicorn): --bind HOST:PORT --workers N"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=min(2 * multiprocessing.cpu_count() + 1, 8))
        parser.add_argument("--threads", type=int, default=1)
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--access-log", action="store_true", help="log each request to stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        owned = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
        metrics_dir = _metrics_directory()
        settings = {
            "bind": options["bind"],
            "workers": options["workers"],
            "threads": options["threads"],
            "timeout": options["timeout"],
            "preload_app": True,
            "post_fork": _post_fork,
            "child_exit": _child_exit,
            "worker_class": "gthread" if options["threads"] > 1 else "sync",
            "accesslog": "-" if options["access_log"] else None,
            "errorlog": "-",
            "backlog": 2048,
        }
        try:
            _Server(settings).run()
        finally:
            if owned:
                shutil.rmtree(metrics_dir, ignore_errors=True)
