"""The PostgreSQL password reaches pg_dump and pg_restore through libpq's environment, never argv.
No database: the tools run against a port where nothing listens (kept out of test_backup.py, whose
tests are transactional and pay for a flush each)."""

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core import backup


def test_the_postgresql_password_reaches_pg_dump_and_pg_restore_through_the_environment_only(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("PG")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PGPASSWORD", "left-over")  # the configured one wins
    monkeypatch.setenv("PGSSLROOTCERT", "/etc/ssl/db-ca.pem")  # kept: libpq reads it for the app's connections too
    with socket.socket() as probe:  # a port where nothing listens: the tools run, and fail to connect
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = {
        "NAME": "complaintdesk",
        "USER": "desk",
        "PASSWORD": "s3cret pass",
        "HOST": "127.0.0.1",
        "PORT": port,
        "OPTIONS": {"sslmode": "disable", "pool": True},
    }
    runs: list[tuple[list[str], dict[str, str]]] = []
    real_run = subprocess.run

    def spy(argv: list[str], **kwargs: Any) -> Any:
        runs.append((argv, kwargs["env"]))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", spy)
    with pytest.raises(backup.BackupError, match="pg_dump failed"):
        backup.pg_dump(database, tmp_path / "out.pgdump")
    (tmp_path / "in.pgdump").write_bytes(b"PGDMP")
    with pytest.raises(backup.BackupError, match="pg_restore failed"):
        backup.pg_restore(database, tmp_path / "in.pgdump")
    assert [Path(argv[0]).name for argv, _env in runs] == ["pg_dump", "pg_restore"]
    for argv, env in runs:
        assert not any("s3cret" in arg for arg in argv)
        assert {k: env[k] for k in env if k.startswith("PG") and k != "PGOPTIONS"} == {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(port),
            "PGUSER": "desk",
            "PGPASSWORD": "s3cret pass",
            "PGDATABASE": "complaintdesk",
            "PGSSLMODE": "disable",
            "PGSSLROOTCERT": "/etc/ssl/db-ca.pem",
        }
    assert runs[1][1]["PGOPTIONS"] == "-c lock_timeout=60s"
