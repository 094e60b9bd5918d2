"""CPU time used per request by each party of a benchmark run, read from /proc (Linux).

Where the time goes says what a faster server could gain: the workers' share is Pulse's code, PostgreSQL's
is the database's (every postgres process, background ones included), and the load generator's (wrk, a
finished child of this process) is what the benchmark itself takes from the same cores.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(wanted: Callable[[int, str], bool]) -> float:
    """User plus system CPU seconds of every live process for which wanted(pid, command name) holds."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        if wanted(int(stat.parent.name), name):
            fields = text.rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / TICKS_PER_SECOND


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuUse:
    """CPU milliseconds per answered request."""

    workers_ms: float
    postgres_ms: float
    load_generator_ms: float

    @property
    def total_ms(self) -> float:
        return self.workers_ms + self.postgres_ms + self.load_generator_ms

    def ceiling(self, cores: int) -> float:
        """Requests per second these cores could serve at this cost per request, with nothing else running."""
        return cores * 1000 / self.total_ms if self.total_ms else 0.0


class CpuMeter:
    """Started before a run and read after it: `workers` are the server's worker processes."""

    def __init__(self, workers: Iterable[int]) -> None:
        self._workers = set(workers)
        self._start = self._now()

    def _now(self) -> tuple[float, float, float]:
        return (
            _cpu_seconds(lambda pid, _name: pid in self._workers),
            _cpu_seconds(lambda _pid, name: name.startswith("postgres")),
            _children_seconds(),
        )

    def per_request(self, requests: int) -> CpuUse:
        end = self._now()
        used = [(b - a) * 1000 / max(requests, 1) for a, b in zip(self._start, end, strict=True)]
        return CpuUse(*used)
