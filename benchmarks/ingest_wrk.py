"""wrk, the ingest benchmark's load generator: its Lua script (every request unique, each 201 counted), its
run at a set rate or flat out, and the minimal Flask app that gives the ceiling. Imported by gunicorn for that
app (benchmarks.ingest_wrk:hello_app()), so it imports nothing of Pulse."""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, request

# After the measured window, wrk sends nothing new for this long, so every rating in flight gets its answer.
DRAIN_SECONDS = 5
# wrk counts a connection as timed out once its last request is this old; it must outlast the drain.
WRK_TIMEOUT_SECONDS = 10

# Every request is unique: device secrets and idempotency keys carry the run id, the thread and a counter.
# delay() holds each connection once the window closes, so the run ends with nothing in flight.
LUA_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } pulse_timespec;
int clock_gettime(int clk_id, pulse_timespec *tp);
]]
local clock = ffi.new("pulse_timespec")
local function now_ms()
  ffi.C.clock_gettime(0, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local WINDOW_MS = __WINDOW_MS__
-- 0: as fast as the server answers. Otherwise each wrk thread sends one request every INTERVAL_MS, in turn
-- over its connections, so that all threads together keep to the asked rate while the server keeps up.
local INTERVAL_MS = __INTERVAL_MS__
local PATH = "__PATH__"
local RUN = "__RUN__"
local CODES = { __CODES__ }
local COLOURS = { "red", "amber", "green" }
local HEADERS = { ["Content-Type"] = "application/json" }
local threads = {}
local window_end = nil

-- Runs in the main state; thread:set makes tid and closes_at globals of each thread's own state.
function setup(thread)
  if window_end == nil then window_end = now_ms() + WINDOW_MS end
  table.insert(threads, thread)
  thread:set("tid", #threads)
  thread:set("closes_at", window_end)
end

function init(args)
  math.randomseed(os.time() + tid * 7919)
  sent, acked, refused = 0, 0, 0
  first_sent, last_answer = 0, 0
  statuses = {}
  live = false
  next_due = nil
end

-- wrk calls delay() before every request it sends. Once the window closes, it holds each connection past
-- the end of the run, so no new request starts and the ones in flight are answered during the drain.
function delay()
  live = true
  local now = now_ms()
  if now >= closes_at then return 3600000 end
  if INTERVAL_MS == 0 then return 0 end
  if next_due == nil then next_due = now end
  local due = next_due
  next_due = next_due + INTERVAL_MS
  if due <= now then return 0 end
  return due - now
end

function request()
  local code_offset = sent + tid
  if not live then  -- wrk's start-up check calls request() once before the run: not sent, not counted
    return wrk.format("POST", PATH, HEADERS, "{}")
  end
  sent = sent + 1
  if first_sent == 0 then first_sent = now_ms() end
  local code = CODES[code_offset % #CODES + 1]
  local body = string.format(
    '{"join_code":"%s","colour":"%s","device_secret":"%s-d%d-%d","idempotency_key":"%s-k%d-%d"}',
    code, COLOURS[math.random(3)], RUN, tid, sent, RUN, tid, sent)
  return wrk.format("POST", PATH, HEADERS, body)
end

function response(status, headers, body)
  last_answer = now_ms()
  if status == 201 then
    acked = acked + 1
  else
    refused = refused + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local sent_all, acked_all, refused_all, first, last = 0, 0, 0, math.huge, 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    sent_all = sent_all + thread:get("sent")
    acked_all = acked_all + thread:get("acked")
    refused_all = refused_all + thread:get("refused")
    local f = thread:get("first_sent")
    if f > 0 and f < first then first = f end
    local l = thread:get("last_answer")
    if l > last then last = l end
    for status, n in pairs(thread:get("statuses")) do by_status[status] = (by_status[status] or 0) + n end
  end
  if first == math.huge then first = 0 end
  local e = summary.errors
  io.write(string.format(
    "PULSE_RESULT sent=%d acked=%d refused=%d first_ms=%.3f last_ms=%.3f p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d connect=%d read=%d write=%d timeout=%d\n",
    sent_all, acked_all, refused_all, first, last, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
  for status, n in pairs(by_status) do io.write(string.format("PULSE_STATUS %s=%d\n", status, n)) end
end
"""


def hello_app() -> Flask:
    """The ceiling: the same request (JSON body in, 201 JSON out) through Flask and nothing else."""
    app = Flask("hello")

    @app.post("/hello")
    def hello() -> tuple[dict[str, str], int]:
        request.get_json()
        return {"status": "hello"}, 201

    return app


@dataclass
class WrkResult:
    sent: int
    acked: int
    refused: int
    window_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: dict[str, int]
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def unanswered(self) -> int:
        return self.sent - self.acked - self.refused

    @property
    def rate(self) -> float:
        return self.acked / self.window_s if self.window_s > 0 else 0.0


def parse_wrk(output: str) -> WrkResult:
    match = re.search(r"^PULSE_RESULT (.*)$", output, flags=re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    values = {k: float(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    statuses = {k: int(v) for k, v in re.findall(r"^PULSE_STATUS (\w+)=(\d+)$", output, flags=re.MULTILINE)}
    return WrkResult(
        sent=int(values["sent"]),
        acked=int(values["acked"]),
        refused=int(values["refused"]),
        window_s=(values["last_ms"] - values["first_ms"]) / 1000,
        p50_ms=values["p50_us"] / 1000,
        p90_ms=values["p90_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
        socket_errors={k: int(values[k]) for k in ("connect", "read", "write", "timeout")},
        statuses=statuses,
    )


def run_wrk(
    args: argparse.Namespace, port: int, path: str, codes: list[str], work: Path, rate: float = 0.0
) -> WrkResult:
    """wrk for args.duration seconds: as fast as it goes, or at `rate` requests per second in all."""
    run_id = secrets.token_urlsafe(15)  # 20 characters: every device secret is at least 25
    interval_ms = args.threads * 1000 / rate if rate else 0
    script = (
        LUA_SCRIPT.replace("__WINDOW_MS__", str(args.duration * 1000))
        .replace("__INTERVAL_MS__", f"{interval_ms:.6f}")
        .replace("__PATH__", path)
        .replace("__RUN__", run_id)
        .replace("__CODES__", ", ".join(f'"{c}"' for c in codes))
    )
    script_path = work / f"ingest-{port}-{run_id}.lua"
    script_path.write_text(script, encoding="utf-8")
    command = [
        "wrk", "--threads", str(args.threads), "--connections", str(args.connections),
        "--duration", f"{args.duration + DRAIN_SECONDS}s", "--timeout", f"{WRK_TIMEOUT_SECONDS}s",
        "--latency", "--script", str(script_path), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + DRAIN_SECONDS + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse_wrk(result.stdout)
