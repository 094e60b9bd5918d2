"""Faults for the reliability benchmark: a private PostgreSQL cluster to restart, gunicorn workers to kill."""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.common.server import Gunicorn, free_port
from benchmarks.reliability_client import RatingClient

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# worker-kill: how long a killed worker's replacement may take to boot and serve, and how long at least to
# look for a worker serving a rating to kill.
RESPAWN_TIMEOUT = 30.0
SERVING_TIMEOUT = 10.0
# Netlink's sock_diag (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h), to list established sockets.
NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, NLM_F_DUMP = 4, 20, 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE, TCP_ESTABLISHED = 2, 3, 1
LOOPBACK_ADDRESS = bytes([127, 0, 0, 1])


def find_postgres_bin(explicit: str = "") -> Path | None:
    """The newest PostgreSQL server binaries (initdb, pg_ctl), or None."""
    candidates = [Path(explicit)] if explicit else Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/"))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    usable = [p for p in candidates if (p / "initdb").is_file() and (p / "pg_ctl").is_file()]
    return max(usable, key=version) if usable else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary directory, on a free port of 127.0.0.1.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` user and its commands
    run as that user. Its unix socket lives in the temporary directory: nothing else uses it.
    """

    def __init__(self, bin_dir: Path):
        owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None  # KeyError: no such user
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pulse-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.as_user: list[str] = []
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
            if not shutil.which("runuser"):
                self.as_user = [
                    "setpriv",
                    f"--reuid={owner.pw_uid}",
                    f"--regid={owner.pw_gid}",
                    "--init-groups",
                ]
        (self.root / "socket").mkdir()
        if self.as_user:
            shutil.chown(self.root / "socket", "postgres", "postgres")

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [*self.as_user, str(self.bin_dir / args[0]), *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log()}"
            )

    def create_database(self, name: str) -> str:
        """A new database in the cluster; returns its URL."""
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()  # no pooled connection may outlive the restart
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def init(self) -> None:
        data = str(self.data)
        self._run(
            "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        settings = (
            f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root / 'socket'}'\n"
        )
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def remove(self) -> None:
        """Stop the cluster if it runs, then delete its directory; called whatever happened before."""
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"Could not stop the private PostgreSQL: {error}", file=sys.stderr)
            with suppress(OSError, ValueError, IndexError):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_postgres(bin_dir: Path) -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres(bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


# Something done to the server while ratings flow: a coroutine run alongside the client.
Disruption = Callable[[Gunicorn, RatingClient], Coroutine[Any, Any, None]]


@dataclass
class Timeline:
    """When the scenario's disruptions happened, in seconds since the window opened."""

    marks: list[tuple[float, str]] = field(default_factory=list)
    outage: tuple[float, float] | None = None  # db-restart: shutdown began, server accepting again
    kills: list[tuple[float, int, float]] = field(default_factory=list)  # at, pid, s until a new one served


def restart_postgres(cluster: PrivatePostgres, timeline: Timeline) -> Disruption:
    async def disrupt(_server: Gunicorn, client: RatingClient) -> None:
        options = client.options
        await asyncio.sleep(max(0.0, options.duration / 3 - client.now()))
        began = client.now()
        await asyncio.to_thread(cluster.stop, "fast")
        timeline.marks.append((began, f"pg_ctl stop -m fast (done after {client.now() - began:.2f} s)"))
        await asyncio.sleep(options.outage)  # the outage: a chosen length, not a wait for anything
        starting = client.now()
        await asyncio.to_thread(cluster.start)
        timeline.marks.append((starting, f"pg_ctl start (ready after {client.now() - starting:.2f} s)"))
        timeline.outage = (began, client.now())

    return disrupt


def kill_workers(db_port: int, timeline: Timeline) -> Disruption:
    async def disrupt(server: Gunicorn, client: RatingClient) -> None:
        options, master = client.options, server.proc.pid
        for n in range(options.kills):
            await asyncio.sleep(max(0.0, options.duration * (n + 1) / (options.kills + 1) - client.now()))
            # Look until the window closes (no rating is sent after it), but at least SERVING_TIMEOUT.
            until = time.monotonic() + max(SERVING_TIMEOUT, options.duration - client.now())
            victim = await asyncio.to_thread(freeze_serving_worker, master, server.port, until)
            if victim is None:
                timeline.marks.append((client.now(), "no worker caught serving a rating: none killed"))
                break
            os.kill(victim, signal.SIGKILL)
            killed = client.now()
            survivors = worker_pids(master) - {victim}
            # A replacement is back once it has served: it holds a rating's or the database's connection.
            while True:  # polling /proc: nothing signals that a new worker has booted and served
                fresh = worker_pids(master) - survivors - {victim}
                if any(holds_connection(pid, server.port, db_port) for pid in fresh):
                    break
                if client.now() - killed > RESPAWN_TIMEOUT:
                    raise RuntimeError(
                        f"no new worker served within {RESPAWN_TIMEOUT:g} s of killing {victim}"
                    )
                if client.now() >= options.duration:  # no rating flows any more: give it something
                    await client.probe()
                await asyncio.sleep(0.05)
            timeline.kills.append((killed, victim, client.now() - killed))

    return disrupt


def worker_pids(master: int) -> set[int]:
    """gunicorn's workers: the children of its master, from /proc."""
    with suppress(OSError):
        return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}
    children = set()  # a kernel without the children file: look at every process's parent
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == master:
                children.add(int(stat.parent.name))
    return children


@dataclass(frozen=True)
class TcpSocket:
    local_port: int
    remote_port: int
    unread: int  # bytes received but not yet read by the socket's owner
    inode: int


def established(ports: set[int]) -> list[TcpSocket]:
    """Established IPv4 TCP connections of 127.0.0.1 from or to one of `ports`.

    Asks the kernel through netlink (sock_diag, as `ss` does) for established sockets only: /proc/net/tcp
    lists every closed connection in TIME_WAIT too, and reading it takes longer than a rating under load.
    """
    request = struct.pack("=BBBxI", socket.AF_INET, socket.IPPROTO_TCP, 0, 1 << TCP_ESTABLISHED) + bytes(48)
    header = struct.pack("=IHHII", 16 + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    found: list[TcpSocket] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as netlink:
        netlink.send(header + request)
        while True:
            data, offset = netlink.recv(1 << 16), 0
            while offset < len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR:
                    raise OSError("sock_diag refused the request")
                message = offset + 16  # struct inet_diag_msg, after the netlink header
                local, remote = struct.unpack_from("!HH", data, message + 4)
                unread, _unsent, _uid, inode = struct.unpack_from("=IIII", data, message + 56)
                if data[message + 8 : message + 12] == LOOPBACK_ADDRESS and (
                    local in ports or remote in ports
                ):
                    found.append(TcpSocket(local, remote, unread, inode))
                offset += (length + 3) & ~3


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
    return inodes


def serving(pids: set[int], port: int) -> list[int]:
    """The workers holding a rating's connection whose answer has not reached the client.

    The worker's end is still open (a sync worker closes it right after answering), and the client's end
    is open with nothing unread (an answer would be waiting there).
    """
    sockets = established({port})
    waiting = {s.local_port for s in sockets if s.remote_port == port and s.unread == 0}
    worker_ends = {s.inode for s in sockets if s.local_port == port and s.remote_port in waiting}
    return [pid for pid in pids if socket_inodes(pid) & worker_ends]


def holds_connection(pid: int, port: int, db_port: int) -> bool:
    """Whether the worker holds a rating's connection or one to the database: it has booted and served."""
    held = socket_inodes(pid)
    return any(
        s.inode in held and (s.local_port == port or s.remote_port == db_port)
        for s in established({port, db_port})
    )


def freeze_serving_worker(master: int, port: int, until: float) -> int | None:
    """A worker caught serving a rating, stopped (SIGSTOP) so that it cannot answer before the kill.

    Only a worker seen serving both before and after it was stopped is taken; None if there was none before
    `until` (time.monotonic()). A worker still booting (after an earlier kill) is never taken: it serves
    nothing yet.
    """
    while time.monotonic() < until:
        for pid in serving(worker_pids(master), port):
            os.kill(pid, signal.SIGSTOP)
            if serving({pid}, port):
                return pid
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)  # polling the kernel: nothing signals "a worker is serving now"
    return None
