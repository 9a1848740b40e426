"""The read replica (DATABASE_REPLICA_URL): the analytics and reports apps read from it.

Their reads are the heavy ones (dashboards over the rollup tables, report figures, exports) and can
stand the replica's lag, which is well under a second on a healthy stream. Everything else reads the
primary, because a case page must show the write just made. Writes always go to the primary, and so
does every read made inside a transaction on it: a job that reads analytics rows and then writes them
(the rollups) must not read a lagging copy. Without a replica alias the router has no opinion and
Django uses the default database."""

from typing import TYPE_CHECKING, Any

import dj_database_url

if TYPE_CHECKING:  # config.settings imports this module: nothing that needs settings at import time
    from django.db.models import Model

REPLICA = "replica"
REPLICA_APPS = frozenset({"analytics", "reports"})


def replica_database(url: str, default: dict[str, Any]) -> dict[str, Any]:
    """The settings of the replica alias: the primary's connection options with the replica's address.
    On PostgreSQL the session is read-only, so a write that reached it by mistake fails instead of
    going unnoticed (a hot standby refuses writes anyway). In tests it mirrors the default database."""
    replica = dj_database_url.parse(url, conn_max_age=default.get("CONN_MAX_AGE", 0))
    if replica["ENGINE"] != default["ENGINE"]:
        raise ValueError(f"DATABASE_REPLICA_URL is {replica['ENGINE']}, the primary {default['ENGINE']}")
    replica["CONN_HEALTH_CHECKS"] = default.get("CONN_HEALTH_CHECKS", False)
    options = dict(default.get("OPTIONS", {}))
    if replica["ENGINE"] == "django.db.backends.postgresql":
        options["options"] = (options.get("options", "") + " -c default_transaction_read_only=on").strip()
    replica["OPTIONS"] = options
    replica["TEST"] = {"MIRROR": "default"}
    return replica


class ReplicaRouter:
    """Reads of the analytics and reports apps' models go to the replica, when there is one."""

    def db_for_read(self, model: "type[Model]", **hints: Any) -> str | None:
        from django.conf import settings
        from django.db import connections

        if model._meta.app_label not in REPLICA_APPS or REPLICA not in settings.DATABASES:
            return None
        if connections["default"].in_atomic_block:
            return "default"  # read-then-write in one transaction: the primary's current rows
        return REPLICA

    def db_for_write(self, model: "type[Model]", **hints: Any) -> str | None:
        from django.conf import settings

        # Explicit, not None: Django would otherwise save an object to the alias it was read from.
        return "default" if REPLICA in settings.DATABASES else None

    def allow_relation(self, obj1: "Model", obj2: "Model", **hints: Any) -> bool | None:
        # The replica holds the same rows as the primary.
        if {obj1._state.db, obj2._state.db} <= {"default", REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica follows the primary's schema by replication; nothing is migrated on it.
        return False if db == REPLICA else None
