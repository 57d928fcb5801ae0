"""A real PgBouncer of the test's own (the Debian package's binary), in transaction pooling mode, in front of one
PostgreSQL database of the test server: what deploy/docker-compose.yml and deploy/k8s put between the helpdesk and
PostgreSQL. A helper module, not a plugin.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.support.environment import free_port
from tests.support.faults import wait_for


def pgbouncer_binary() -> str | None:
    """Debian installs it in /usr/sbin, which is not on every user's PATH."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


class PgBouncer:
    """pgbouncer on a free 127.0.0.1 port, pooling `database` of the PostgreSQL server at `host`:`port` by
    transaction, at most `pool_size` server connections. Clients log in as any role the server trusts (auth_type
    trust, the roles listed in its userlist with the password PgBouncer gives the server)."""

    def __init__(self, database: str, *, roles: dict[str, str], pool_size: int, host: str = "127.0.0.1",
                 port: int = 5432) -> None:
        self.database, self.roles, self.pool_size = database, roles, pool_size
        self.upstream = (host, port)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="helpdesk-pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def url(self, role: str) -> str:
        """DATABASE_URL through this PgBouncer, as `role`."""
        password = f":{self.roles[role]}" if self.roles[role] else ""
        return f"postgres://{role}{password}@127.0.0.1:{self.port}/{self.database}"

    def dsn(self, role: str) -> str:
        """libpq conninfo through this PgBouncer, as `role`, for psycopg."""
        return f"host=127.0.0.1 port={self.port} dbname={self.database} user={role} password={self.roles[role]}"

    def start(self) -> None:
        binary = pgbouncer_binary()
        assert binary, "pgbouncer is not installed"
        host, port = self.upstream
        userlist = "".join(f'"{role}" "{password}"\n' for role, password in self.roles.items())
        config = f"""\
[databases]
{self.database} = host={host} port={port} dbname={self.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir / 'userlist.txt'}
pool_mode = transaction
default_pool_size = {self.pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
"""
        if os.geteuid() == 0:
            config += "user = postgres\n"  # PgBouncer refuses to run as root
        (self.dir / "userlist.txt").write_text(userlist)
        (self.dir / "pgbouncer.ini").write_text(config)
        self.dir.chmod(0o755)
        self.log = open(self.dir / "pgbouncer.log", "a")
        self.process = subprocess.Popen([binary, str(self.dir / "pgbouncer.ini")], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_for(self.listening, timeout=15, interval=0.1)

    def listening(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_text()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def log_text(self) -> str:
        return (self.dir / "pgbouncer.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process is not None:
            self.log.close()

    def __enter__(self) -> PgBouncer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
