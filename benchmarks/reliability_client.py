"""The asyncio rating client: sends ratings at a fixed rate and keeps each one until it is acknowledged."""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common.database import DEFAULT_ADMIN_URL

PATH = "/api/v1/ratings"
COLOURS = ("red", "amber", "green")


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
        """GET /readyz once, not counted: something for the workers to serve after the window. It reads the
        database, so the worker that serves it keeps a pooled connection to it afterwards, which is how a
        replacement worker is seen to have served (/healthz left no trace once answered)."""
        with suppress(ConnectionLost, TimeoutError):
            await asyncio.wait_for(self._exchange("GET", "/readyz", b""), self.options.timeout)

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


def run_in_own_loop(work: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run in a thread of its own: the caller's thread may already run an event loop (pytest, after a
    Playwright browser test in the same worker), where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reliability-client") as pool:
        return pool.submit(asyncio.run, work).result()
