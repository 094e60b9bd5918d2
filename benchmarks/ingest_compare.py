"""Ingest before and after, in the same run: the ingest benchmark of a baseline commit and of this tree,
taking turns on the same machine, so that the ratio holds however fast the machine happens to be today.

    python -m benchmarks.ingest_compare --baseline <commit> [--rounds 2] [--duration 20]

The baseline is checked out into a temporary git worktree and run with its own code first on the import path
(PYTHONPATH), with its own ingest benchmark (`python -m benchmarks.ingest`, or the script
benchmarks/ingest.py of commits from before the benchmarks were a package), so each side is measured exactly
as it was meant to run.
Rounds alternate (baseline, this tree, baseline, this tree ...) so that a machine that slows down or speeds up
during the run affects both. Prints each run's flat-out ratings/s, the CPU per rating, and the ratio of the
medians. Exits 1 if this tree is more than --tolerance (default 15%) slower.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import ROOT


@dataclass(frozen=True)
class Run:
    rate: float  # flat-out ratings/s
    cpu_ms: float  # CPU per rating, everything on the machine that the benchmark counts
    exact: bool  # the tallies equalled the acknowledged count


def run_ingest(tree: Path, args: argparse.Namespace) -> Run:
    env = {**_environ(), "PYTHONPATH": str(tree)}
    packaged = (tree / "benchmarks" / "__init__.py").is_file()
    benchmark = ["-m", "benchmarks.ingest"] if packaged else [str(tree / "benchmarks" / "ingest.py")]
    command = [
        sys.executable, *benchmark, "--duration", str(args.duration), "--rate", str(args.rate),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    output = result.stdout
    throughput = re.search(r"throughput \(201/s\)\s+([\d.]+)\s+([\d.]+)", output)
    total = re.search(r"^\s+total\s+([\d.]+)", output, flags=re.MULTILINE)
    if throughput is None or total is None:
        raise RuntimeError(
            f"{tree}: no result from ingest.py ({result.returncode}):\n{output}\n{result.stderr}"
        )
    exact = "tallies equal the acknowledged count exactly" in output and "FAIL  tallies" not in output
    return Run(float(throughput.group(2)), float(total.group(1)), exact)


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k != "PYTHONPATH"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="the commit (or branch) to compare against")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side, alternating (default 2)")
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per wrk run (default 20)")
    parser.add_argument("--rate", type=float, default=1000.0, help="ingest.py's paced rate (default 1000)")
    parser.add_argument("--tolerance", type=float, default=0.15, help="allowed slowdown (default 0.15)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pulse-baseline-") as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            runs: dict[str, list[Run]] = {"baseline": [], "this tree": []}
            for round_ in range(args.rounds):
                for name, tree in (("baseline", baseline), ("this tree", ROOT)):
                    run = run_ingest(tree, args)
                    runs[name].append(run)
                    print(
                        f"round {round_ + 1} {name:<10} {run.rate:8.1f} ratings/s flat out, "
                        f"{run.cpu_ms:.3f} ms CPU a rating, tallies {'exact' if run.exact else 'NOT EXACT'}",
                        flush=True,
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False
            )

    before = statistics.median(r.rate for r in runs["baseline"])
    after = statistics.median(r.rate for r in runs["this tree"])
    cpu_before = statistics.median(r.cpu_ms for r in runs["baseline"])
    cpu_after = statistics.median(r.cpu_ms for r in runs["this tree"])
    ratio = after / before if before else 0.0
    print(f"\nbaseline {args.baseline}: median {before:.1f} ratings/s, {cpu_before:.3f} ms CPU a rating")
    print(f"this tree:            median {after:.1f} ratings/s, {cpu_after:.3f} ms CPU a rating")
    print(
        f"ratio this tree / baseline: {ratio:.3f} (throughput), {cpu_after / cpu_before:.3f} (CPU a rating)"
    )
    exact = all(r.exact for side in runs.values() for r in side)
    good = ratio >= 1 - args.tolerance and exact
    print(
        f"RESULT: {'PASS' if good else 'FAIL'} (within {args.tolerance:.0%} of the baseline; tallies exact)"
    )
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
