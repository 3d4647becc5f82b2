"""Throwaway PostgreSQL clusters for the fault tests: a database that stops, restarts or fails
over must not be the one the rest of the suite runs on.

As root the server runs as postgres (initdb and pg_ctl refuse root); each cluster lives in a
temporary folder, listens only on a unix socket there, and runs with fsync off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PGBIN = Path("/usr/lib/postgresql/15/bin")


class Cluster:
    """One cluster: ``init`` a primary, or ``replica_of`` another (pg_basebackup -R)."""

    def __init__(self, port_offset: int = 0):
        self.folder = Path(tempfile.mkdtemp(prefix="gridmap-cluster-"))
        self.folder.chmod(0o755)
        self.data, self.run, self.log = (
            self.folder / "data",
            self.folder / "run",
            self.folder / "log",
        )
        self.run.mkdir()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.run, "postgres")
        self.port = 57000 + (os.getpid() + port_offset) % 1000
        self.url = f"postgresql+psycopg://{self.user}@/gridmap?host={self.run}&port={self.port}"

    @property
    def user(self) -> str:
        return "postgres" if self.as_owner else os.environ.get("USER", "postgres")

    def pg(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.pg(
            str(PGBIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=reject",
        )
        self.start()
        self.pg(
            "psql",
            "-X",
            "-q",
            "-h",
            str(self.run),
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE gridmap",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.run}'"
            f" -c port={self.port} -c fsync=off"
        )
        self.pg(
            str(PGBIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        self.pg(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_owner,
                str(PGBIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    def replica_of(self, primary: Cluster) -> None:
        """Make this cluster a streaming replica of ``primary`` and start it."""
        self.pg(
            str(PGBIN / "pg_basebackup"),
            "-D",
            str(self.data),
            "-h",
            str(primary.run),
            "-p",
            str(primary.port),
            "-U",
            primary.user,
            "-X",
            "stream",
            "-R",
            "-c",
            "fast",
        )
        self.start()

    def promote(self) -> None:
        self.pg(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-w", "promote")

    def crash(self) -> None:
        """Stop at once, as a failed server would."""
        self.pg(str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def socket_url(self) -> str:
        """``host:port`` of its socket, for a multi-host URL."""
        return f"{self.run}:{self.port}"
