"""Reliability: each acknowledged rating counts once, through load, a database restart and killed workers.

    python benchmarks/reliability.py load          [--rate 1000 --duration 60]
    python benchmarks/reliability.py db-restart    [--rate 200 --duration 30 --outage 3]
    python benchmarks/reliability.py worker-kill   [--rate 200 --duration 30 --kills 2]

Each scenario serves Pulse with gunicorn (the shipped gunicorn.conf.py, sync workers, PULSE_ENV=production) on
a throwaway, seeded PostgreSQL database (3 shift bands covering the whole day, 50 teams) and sends unique
ratings at a fixed rate from an asyncio client. Like the rating page on a phone, the client keeps each rating
(its own device secret and idempotency key) until the server acknowledges it with 201, and resends the same
body after a 503 (waiting for Retry-After, capped), a lost connection or a timeout. Afterwards the tallies
must hold exactly one rating and one contributor per acknowledged rating. db-restart runs its own PostgreSQL
cluster in a temporary directory (never the machine's shared server) and restarts it mid-load; worker-kill
sends SIGKILL to a gunicorn worker while it serves a rating. Prints the figures; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ingest import (
    DEFAULT_ADMIN_URL,
    LOOPBACK,
    Gunicorn,
    free_port,
    migrate_and_seed,
    server_env,
    tally_sums,
    throwaway_database,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SCENARIOS = ("load", "db-restart", "worker-kill")
PATH = "/api/v1/ratings"
COLOURS = ("red", "amber", "green")
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# worker-kill: how long a killed worker's replacement may take to boot and serve, and how long at least to
# look for a worker serving a rating to kill.
RESPAWN_TIMEOUT = 30.0
SERVING_TIMEOUT = 10.0
# Netlink's sock_diag (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h), to list established sockets.
NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, NLM_F_DUMP = 4, 20, 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE, TCP_ESTABLISHED = 2, 3, 1
LOOPBACK_ADDRESS = bytes([127, 0, 0, 1])
# Lines that continue a traceback after its exception: chained tracebacks, SQLAlchemy's statement and link.
CHAINED = ("Traceback", "The above exception", "During handling", "[SQL:", "[parameters:", "(Background on")


@dataclass
class Options:
    """One run's parameters. The defaults are the hand-run load scenario; tests pass small ones."""

    rate: float = 1000.0
    duration: float = 60.0
    workers: int = 2 * (os.cpu_count() or 1) + 1
    connections: int = 32  # requests in flight at once, at most; more wait in the client, not the kernel
    teams: int = 50
    timeout: float = 10.0  # an attempt without an answer after this long has hung: a failure
    retry_cap: float = 1.0  # the longest wait before a retry, whatever Retry-After says
    settle: float = 60.0  # after the window, how long every rating still has to be acknowledged
    admin_url: str = DEFAULT_ADMIN_URL  # load and worker-kill: a PostgreSQL that may create databases
    outage: float = 3.0  # db-restart: seconds between PostgreSQL's fast shutdown and its start
    kills: int = 2  # worker-kill: workers to kill, spread over the window
    postgres_bin: str = ""  # db-restart: the server binaries; default the newest /usr/lib/postgresql/*/bin


@dataclass
class Rating:
    """One rating as the phone keeps it until acknowledged: the same body on every attempt."""

    body: bytes
    due: float  # when it was due to be sent, in seconds since the window opened
    attempts: int = 0
    acked_at: float | None = None
    final: str = ""  # what the last attempt got: "201", another status, "connection lost" or "timeout"
    detail: str = ""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class ConnectionLost(Exception):
    """The connection failed or closed before a whole answer arrived."""


@dataclass
class LoadResult:
    """What the client saw. Times are seconds since the window opened."""

    rate: float
    duration: float
    scheduled: int = 0  # ratings due within the window
    ratings: list[Rating] = field(default_factory=list)  # sent at least once
    outcomes: Counter[str] = field(default_factory=Counter)  # per attempt
    missing_retry_after: int = 0  # 503 answers without a Retry-After header
    events: list[tuple[float, str]] = field(default_factory=list)  # every attempt that did not get 201
    attempt_ms: list[float] = field(default_factory=list)
    max_lag_ms: float = 0.0  # the longest a rating waited in the client for a free connection
    window_s: float = 0.0
    elapsed_s: float = 0.0  # the window and the settling after it
    client_cpu_s: float = 0.0  # this process's CPU time meanwhile
    machine_busy: float = 0.0  # share of all cores' time that was busy meanwhile (/proc/stat)
    disruption_error: str = ""  # what went wrong restarting PostgreSQL or killing a worker, if anything

    @property
    def acked(self) -> int:
        return sum(r.acked_at is not None for r in self.ratings)

    @property
    def acked_in_window(self) -> int:
        return sum(r.acked_at is not None and r.acked_at <= self.window_s for r in self.ratings)

    @property
    def unacknowledged(self) -> list[Rating]:
        return [r for r in self.ratings if r.acked_at is None]

    @property
    def retried(self) -> int:
        return sum(r.attempts > 1 for r in self.ratings)

    def times_of(self, outcome: str) -> list[float]:
        return [t for t, what in self.events if what == outcome]


class RatingClient:
    """Sends ratings at a fixed rate over at most `connections` connections, each retried until acknowledged.

    gunicorn's sync workers close the connection after every answer, so each attempt usually opens its own;
    a connection the server keeps open is reused.
    """

    def __init__(self, port: int, codes: list[str], options: Options):
        self.port = port
        self.codes = codes
        self.options = options
        self.slots = asyncio.Semaphore(options.connections)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.run_id = secrets.token_hex(4)
        self.start = 0.0
        self.result = LoadResult(options.rate, options.duration)

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.start

    async def run(self, disruption: Callable[[RatingClient], Coroutine[Any, Any, None]] | None) -> LoadResult:
        self.start = asyncio.get_running_loop().time()
        cpu, busy = time.process_time(), cpu_times()
        tasks: set[asyncio.Task[None]] = set()
        disrupting = asyncio.create_task(disruption(self)) if disruption else None
        try:
            await self._produce(tasks)
            self.result.window_s = self.now()
            pending = set(tasks)
            if disrupting is not None:
                pending.add(disrupting)
            if pending:
                await asyncio.wait(pending, timeout=self.options.settle)
            if disrupting is not None and disrupting.done() and disrupting.exception() is not None:
                self.result.disruption_error = repr(disrupting.exception())
        finally:
            self.result.elapsed_s = self.now()
            self.result.client_cpu_s = time.process_time() - cpu
            busy_now = cpu_times()
            total = busy_now[1] - busy[1]
            self.result.machine_busy = (busy_now[0] - busy[0]) / total if total else 0.0
            for task in [*tasks, *([disrupting] if disrupting else [])]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for _reader, writer in self.idle:
                writer.close()
        return self.result

    async def _produce(self, tasks: set[asyncio.Task[None]]) -> None:
        """Start ratings at their due times; a rating waits in the client while every connection is busy."""
        rate, duration = self.options.rate, self.options.duration
        self.result.scheduled = int(rate * duration)
        for index in range(self.result.scheduled):
            due = index / rate
            if due > self.now():
                await asyncio.sleep(due - self.now())
            await self.slots.acquire()
            if self.now() >= duration:  # the window closed while this rating waited for a connection
                self.slots.release()
                break
            self.result.max_lag_ms = max(self.result.max_lag_ms, (self.now() - due) * 1000)
            rating = Rating(self._body(index), due)
            self.result.ratings.append(rating)
            task = asyncio.create_task(self._deliver(rating))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def _body(self, index: int) -> bytes:
        body = {
            "join_code": self.codes[index % len(self.codes)],
            "colour": random.choice(COLOURS),
            "device_secret": secrets.token_urlsafe(24),
            "idempotency_key": f"rel-{self.run_id}-{index}",
        }
        return json.dumps(body, separators=(",", ":")).encode()

    async def _deliver(self, rating: Rating) -> None:
        """Send until 201, resending the same body after a 503, a lost connection or a timeout."""
        held = True  # _produce took a connection slot for the first attempt
        try:
            while True:
                if not held:
                    await self.slots.acquire()
                    held = True
                rating.attempts += 1
                began = self.now()
                try:
                    answer = await asyncio.wait_for(
                        self._exchange("POST", PATH, rating.body), self.options.timeout
                    )
                    outcome = str(answer.status)
                except ConnectionLost as lost:
                    answer, outcome, rating.detail = None, "connection lost", str(lost)
                except TimeoutError:
                    answer, outcome = None, "timeout"
                finally:
                    self.slots.release()
                    held = False
                self.result.attempt_ms.append((self.now() - began) * 1000)
                self.result.outcomes[outcome] += 1
                rating.final = outcome
                if answer is not None and answer.status == 201:
                    rating.acked_at = self.now()
                    return
                self.result.events.append((self.now(), outcome))
                if answer is not None:
                    rating.detail = answer.body.decode(errors="replace")[:300]
                    if answer.status < 500:
                        return  # refused: a final answer, and a failure
                await asyncio.sleep(self._retry_delay(answer, rating.attempts))
        finally:
            if held:
                self.slots.release()

    def _retry_delay(self, answer: Answer | None, attempts: int) -> float:
        cap = self.options.retry_cap
        if answer is not None and answer.status == 503:
            retry_after = answer.headers.get("retry-after", "")
            if not retry_after.isdigit():
                self.result.missing_retry_after += 1
                return cap
            return min(float(retry_after), cap)
        return min(0.05 * 2 ** (attempts - 1), cap) * random.uniform(0.5, 1.0)

    async def probe(self) -> None:
        """GET /healthz once, not counted: something for the workers to serve after the window."""
        with suppress(ConnectionLost, TimeoutError):
            await asyncio.wait_for(self._exchange("GET", "/healthz", b""), self.options.timeout)

    async def _exchange(self, method: str, path: str, body: bytes) -> Answer:
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        if self.idle:
            reader, writer = self.idle.pop()
            try:
                return await self._send(reader, writer, request)
            except ConnectionLost:
                # A kept-alive connection the server had already closed: resend on a new one, as browsers do.
                writer.close()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError as error:
            raise ConnectionLost(f"connect: {error}") from error
        return await self._send(reader, writer, request)

    async def _send(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> Answer:
        keep = False
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            version, status = lines[0].split(" ", 2)[:2]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            if "content-length" in headers:
                content = await reader.readexactly(int(headers["content-length"]))
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            else:
                content = await reader.read()
            return Answer(int(status), headers, content)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            raise ConnectionLost(f"{type(error).__name__}: {error}") from error
        finally:
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()


def cpu_times() -> tuple[int, int]:
    """All cores' busy and total time so far, in clock ticks (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


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


@dataclass
class Outcome:
    scenario: str
    options: Options
    result: LoadResult | None = None
    sums: dict[str, int] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    server_log: str = ""
    failures: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures and not self.skipped and self.result is not None

    @property
    def tracebacks(self) -> list[str]:
        """Tracebacks in gunicorn's log, each with the line before it and any chained ones."""
        blocks: list[list[str]] = []
        lines = self.server_log.splitlines()
        state = ""
        for previous, line in zip(["", *lines], lines, strict=False):
            if state == "" and line.startswith("Traceback"):
                blocks.append([previous, line])
                state = "frames"
            elif state == "frames":
                blocks[-1].append(line)
                if not line.startswith((" ", "\t")):
                    state = "after"  # that was the exception itself
            elif state == "after" and (line.startswith(CHAINED) or not line.strip()):
                blocks[-1].append(line)
                state = "frames" if line.startswith("Traceback") else "after"
            else:
                state = ""
        return ["\n".join(block).strip() for block in blocks]


def run_scenario(scenario: str, options: Options) -> Outcome:
    """Run one scenario and judge it; the outcome's failures list what went wrong (empty: pass)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    outcome = Outcome(scenario, options)
    with tempfile.TemporaryDirectory(prefix="pulse-reliability-") as tmp:
        work = Path(tmp)
        if scenario == "db-restart":
            bin_dir = find_postgres_bin(options.postgres_bin)
            if bin_dir is None:
                where = options.postgres_bin or POSTGRES_BIN_GLOB
                outcome.skipped = (
                    f"no PostgreSQL server binaries (initdb, pg_ctl) under {where}; "
                    "install the postgresql package or pass --postgres-bin"
                )
                return outcome
            if os.geteuid() == 0 and not _has_user("postgres"):
                outcome.skipped = (
                    "running as root and there is no `postgres` user to run initdb and pg_ctl as"
                )
                return outcome
            with private_postgres(bin_dir) as cluster:
                print(f"Private PostgreSQL ({bin_dir}) on 127.0.0.1:{cluster.port}")
                # No throwaway database: the whole cluster is thrown away.
                url = cluster.create_database("pulse")
                _run_load(outcome, url, work, restart_postgres(cluster, outcome.timeline))
        else:
            with throwaway_database(options.admin_url) as url:
                disruption = None
                if scenario == "worker-kill":
                    disruption = kill_workers(make_url(url).port or 5432, outcome.timeline)
                _run_load(outcome, url, work, disruption)
    if outcome.result is not None:
        judge(outcome)
    return outcome


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _run_load(
    outcome: Outcome,
    url: str,
    work: Path,
    disruption: Disruption | None,
) -> None:
    options = outcome.options
    print(f"Database {make_url(url).database}: migrating; seeding {options.teams} teams, 3 shift bands ...")
    codes = migrate_and_seed(url, options.teams)
    env = server_env(free_port(), url)
    # No per-address limit: every rating here comes from 127.0.0.1. "off", as Settings.from_env ignores
    # an empty variable (the default limit would stay on).
    env["PULSE_RATING_RATE_LIMIT"] = "off"
    server = Gunicorn("pulse.wsgi:app", options.workers, env, work)
    try:
        server.wait_ready("/api/openapi.json")
        print(f"{outcome.scenario}: {options.rate:g} ratings/s for {options.duration:g} s ...")
        client = RatingClient(server.port, codes, options)
        outcome.result = run_in_own_loop(client.run(partial(disruption, server) if disruption else None))
        outcome.sums = tally_sums(url)
    finally:
        server.stop()
        outcome.server_log = server.log_path.read_text(errors="replace")


def run_in_own_loop(work: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run in a thread of its own: the caller's thread may already run an event loop (pytest, after a
    Playwright browser test in the same worker), where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reliability-client") as pool:
        return pool.submit(asyncio.run, work).result()


def judge(outcome: Outcome) -> None:
    result = outcome.result
    assert result is not None
    failures = outcome.failures
    outcomes = result.outcomes
    acked = result.acked
    if acked == 0:
        failures.append("no rating was acknowledged")
    unacked = result.unacknowledged
    refused = [r for r in unacked if r.final.isdigit() and int(r.final) < 500]
    if refused:
        failures.append(f"{len(refused)} ratings refused; first: {refused[0].final} {refused[0].detail}")
    if len(unacked) > len(refused):
        failures.append(f"{len(unacked) - len(refused)} ratings never acknowledged within the settle time")
    server_errors = {k: n for k, n in outcomes.items() if k.isdigit() and int(k) >= 500 and k != "503"}
    if server_errors:
        failures.append(f"server errors other than 503: {server_errors}")
    if outcomes["timeout"]:
        failures.append(f"{outcomes['timeout']} attempts hung past the {outcome.options.timeout:g} s timeout")
    if result.missing_retry_after:
        failures.append(f"{result.missing_retry_after} answers 503 without Retry-After")
    if outcome.scenario == "load" and outcomes["503"] + outcomes["connection lost"]:
        failures.append(f"errors under load: 503 x {outcomes['503']}, lost x {outcomes['connection lost']}")
    if result.disruption_error:
        failures.append(f"the {outcome.scenario} disruption failed: {result.disruption_error}")
    if outcome.scenario == "db-restart":
        if outcome.timeline.outage is None:
            failures.append("PostgreSQL was not restarted while ratings flowed")
        if outcomes["503"] == 0:
            failures.append("no request met the outage (no 503): the scenario proved nothing")
        if outcomes["connection lost"]:
            failures.append(f"{outcomes['connection lost']} connections lost: workers should answer 503")
    if outcome.scenario == "worker-kill":
        if outcomes["503"]:
            failures.append(f"{outcomes['503']} answers 503 although the database stayed up")
        if len(outcome.timeline.kills) < outcome.options.kills:
            failures.append(f"only {len(outcome.timeline.kills)} of {outcome.options.kills} workers killed")
    if outcome.tracebacks:
        failures.append(f"the server logged {len(outcome.tracebacks)} tracebacks")
    for name in ("team_week_tally", "org_shift_tally", "contributors"):
        if outcome.sums.get(name) != acked:
            failures.append(f"{name} holds {outcome.sums.get(name)}, acknowledged {acked}")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_report(outcome: Outcome) -> None:
    options, result = outcome.options, outcome.result
    if outcome.skipped:
        print(f"\n{outcome.scenario}: SKIPPED: {outcome.skipped}")
        return
    assert result is not None

    def row(label: str, value: str) -> None:
        print(f"  {label:<30} {value}")

    print(
        f"\nPulse reliability, {outcome.scenario}: gunicorn sync workers={options.workers}, "
        f"client connections={options.connections}, {os.cpu_count()} CPU cores shared by client, gunicorn "
        "and PostgreSQL"
    )
    sent, window = len(result.ratings), result.window_s or options.duration
    row("target", f"{options.rate:g} ratings/s for {options.duration:g} s ({result.scheduled} ratings)")
    row("sent", f"{sent} ({sent / window:.1f}/s); held back in the client: {result.scheduled - sent}")
    row("client lag, max", f"{result.max_lag_ms:.0f} ms (a due rating waiting for a free connection)")
    row("acknowledged in the window", f"{result.acked_in_window} ({result.acked_in_window / window:.1f}/s)")
    row("acknowledged in all", f"{result.acked} of {sent}")
    if result.acked_in_window / window < 0.95 * options.rate:
        row("rate", f"MISSED: {result.acked_in_window / window:.0f}/s of {options.rate:g}/s acknowledged")
    row(
        "CPU while ratings flowed",
        f"client {result.client_cpu_s:.1f} s in {result.elapsed_s:.1f} s; all {os.cpu_count()} cores "
        f"{result.machine_busy:.0%} busy (everything on the machine); load average {os.getloadavg()[0]:.1f}",
    )
    row("attempts", ", ".join(f"{k} x {n}" for k, n in sorted(result.outcomes.items())))
    most = max((r.attempts for r in result.ratings), default=0)
    row("retried ratings", f"{result.retried} (most attempts for one rating: {most})")
    latencies = [(r.acked_at - r.due) * 1000 for r in result.ratings if r.acked_at is not None]
    row(
        "due -> 201 (ms)",
        " / ".join(f"{percentile(latencies, p):.0f}" for p in (0.5, 0.9, 0.99))
        + f" / {max(latencies, default=0):.0f}"
        "  (p50 / p90 / p99 / max)",
    )
    row(
        "one attempt (ms)",
        " / ".join(f"{percentile(result.attempt_ms, p):.1f}" for p in (0.5, 0.9, 0.99))
        + f" / {max(result.attempt_ms, default=0):.1f}",
    )
    for at, what in outcome.timeline.marks:
        row(f"at {at:6.2f} s", what)
    if outcome.timeline.outage:
        began, ended = outcome.timeline.outage
        row("outage", f"{ended - began:.2f} s (from {began:.2f} s to {ended:.2f} s)")
    for at, pid, respawn in outcome.timeline.kills:
        row(
            f"at {at:6.2f} s",
            f"SIGKILL worker {pid} serving a rating; a new one served {respawn:.2f} s later",
        )
    for outcome_name in ("503", "connection lost", "timeout"):
        times = result.times_of(outcome_name)
        if times:
            row(f"{outcome_name} answers", f"{len(times)}, from {min(times):.2f} s to {max(times):.2f} s")
    if result.missing_retry_after:
        row("503 without Retry-After", str(result.missing_retry_after))
    finals = Counter(r.final for r in result.unacknowledged)
    if finals:
        row("not acknowledged", ", ".join(f"{k} x {n}" for k, n in finals.items()))
        for rating in result.unacknowledged[:5]:
            print(f"    {rating.final}: {rating.detail}  body {rating.body.decode()}")

    print("\nDatabase check (must equal the acknowledged count exactly):")
    for name, label in (
        ("team_week_tally", "team_week_tally red+amber+green"),
        ("org_shift_tally", "org_shift_tally red+amber+green"),
        ("contributors", "team_week_tally contributors"),
    ):
        value = outcome.sums.get(name)
        verdict = "= acknowledged" if value == result.acked else f"!= {result.acked} acknowledged"
        print(f"  {label:<34} {value!s:>10}  {verdict}")

    warnings = outcome.server_log.count("database unavailable")
    tracebacks = outcome.tracebacks
    print(f"\nServer log: {warnings} 'database unavailable' warnings, {len(tracebacks)} tracebacks")
    for block in tracebacks[:3]:
        print("  " + block.replace("\n", "\n  "))
    for failure in outcome.failures:
        print(f"FAIL: {failure}")
    print(f"\nRESULT: {'PASS' if outcome.passed else 'FAIL'}")


DEFAULTS = {
    "load": {"rate": 1000.0, "duration": 60.0},
    "db-restart": {"rate": 200.0, "duration": 30.0},
    "worker-kill": {"rate": 200.0, "duration": 30.0},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--rate", type=float, help="ratings per second (load 1000, else 200)")
    parser.add_argument("--duration", type=float, help="seconds of load (load 60, else 30)")
    base = Options()
    parser.add_argument("--workers", type=int, default=base.workers, help="gunicorn workers (2*cores+1)")
    parser.add_argument("--connections", type=int, default=base.connections, help="client connections (32)")
    parser.add_argument("--teams", type=int, default=base.teams, help="teams to seed (50)")
    parser.add_argument("--timeout", type=float, default=base.timeout, help="seconds before an attempt hangs")
    parser.add_argument("--retry-cap", type=float, default=base.retry_cap, help="longest wait before a retry")
    parser.add_argument("--settle", type=float, default=base.settle, help="seconds to acknowledge the rest")
    parser.add_argument("--admin-url", default=base.admin_url, help="load, worker-kill: PostgreSQL to use")
    parser.add_argument("--outage", type=float, default=base.outage, help="db-restart: seconds down (3)")
    parser.add_argument("--kills", type=int, default=base.kills, help="worker-kill: workers to kill (2)")
    parser.add_argument(
        "--postgres-bin", default="", help=f"db-restart: server binaries ({POSTGRES_BIN_GLOB})"
    )
    args = parser.parse_args(argv)
    defaults = DEFAULTS[args.scenario]
    options = Options(
        rate=args.rate or defaults["rate"],
        duration=args.duration or defaults["duration"],
        workers=args.workers,
        connections=args.connections,
        teams=args.teams,
        timeout=args.timeout,
        retry_cap=args.retry_cap,
        settle=args.settle,
        admin_url=args.admin_url,
        outage=args.outage,
        kills=args.kills,
        postgres_bin=args.postgres_bin,
    )
    if not 1 <= options.duration <= 600 or options.rate <= 0:
        parser.error("--duration must be between 1 and 600 seconds and --rate above 0")
    if make_url(options.admin_url).host not in LOOPBACK:
        parser.error("this benchmark only talks to a PostgreSQL on this machine (127.0.0.1)")
    # Stop cleanly on SIGTERM too, so the private cluster, the database and gunicorn are always removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    outcome = run_scenario(args.scenario, options)
    print_report(outcome)
    return 0 if outcome.passed or outcome.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
