"""`complaintdesk worker`: the task worker and the scheduler loop.

The worker follows TASK_BACKEND: django-tasks-db's db_worker, or with `rq` an RQ worker on the Redis
queue (django-tasks-rq), running the tasks one after another in this process. Several RQ workers may
run, on several machines; each task runs on one of them, and the periodic jobs on the one that holds
the scheduler lease (core.scheduler)."""

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core import scheduler


def uses_rq() -> bool:
    return "RQBackend" in settings.TASKS["default"]["BACKEND"]


def rq_worker(name: str | None = None) -> Any:
    """An RQ worker on the configured queues that runs django-tasks' tasks in its own process, as
    django-tasks-db's worker does (RQ's default forks a child per task: the child loses jieba's
    dictionary, the config cache and the loaded models, and loading them again costs seconds a task).
    A task longer than COMPLAINTDESK_TASK_TIMEOUT is still stopped (RQ's alarm in this process)."""
    import django_rq
    from django.db import close_old_connections
    from rq import SimpleWorker

    class TaskWorker(SimpleWorker):
        def perform_job(self, *args: Any, **kwargs: Any) -> bool:
            # Each task as a request: connections past CONN_MAX_AGE or broken are replaced first.
            close_old_connections()
            try:
                return bool(super().perform_job(*args, **kwargs))
            finally:
                close_old_connections()

    queues = settings.TASKS["default"].get("QUEUES") or ["default"]
    return django_rq.get_worker(*queues, job_class="django_tasks_rq.Job", worker_class=TaskWorker, name=name)


class Command(BaseCommand):
    help = "Run the background task worker and the periodic scheduler (SLA ticks, ledger checkpoints)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--interval", type=float, default=None, help="scheduler period in seconds")
        parser.add_argument("--no-scheduler", action="store_true")
        parser.add_argument("--once", action="store_true", help="run the periodic jobs once and exit")
        parser.add_argument(
            "--burst", action="store_true", help="run the queued tasks, exit when none is left (no scheduler)"
        )
        parser.add_argument("--name", default=None, help="RQ worker name (default: host and process id)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(str(scheduler.run_once("once")))
            return
        from complaints.search import warm_up

        warm_up()  # jieba's dictionary, before the first task rather than in it
        stop = threading.Event()
        thread = None
        if not (options["no_scheduler"] or options["burst"]):
            thread = threading.Thread(target=scheduler.loop, args=(stop, options["interval"]), daemon=True)
            thread.start()
        try:
            if uses_rq():
                self._rq(options)
            else:
                call_command("db_worker", batch=options["burst"], startup_delay=not options["burst"])
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=30)  # let a running round finish and release the lease

    def _rq(self, options: dict[str, Any]) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        level = {0: "WARNING", 1: "INFO"}.get(options["verbosity"], "DEBUG")
        try:
            worker = rq_worker(options["name"])
            # with_scheduler: RQ's own scheduler moves tasks deferred with run_after to the queue
            # (it takes its own lock in Redis: one of the workers does it).
            worker.work(burst=options["burst"], with_scheduler=True, logging_level=level)
        except RedisConnectionError as exc:
            raise CommandError(f"Redis (REDIS_URL) cannot be reached: {exc}") from exc
