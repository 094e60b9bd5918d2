"""What the benchmarks share: throwaway databases (database), servers (server), headless Chromium (browser),
percentiles and timings (statistics), the closing table of targets (report) and CPU accounting (cpu)."""

from pathlib import Path

# The repository: servers run from here, and the browser benchmarks read the working tree's static files.
ROOT = Path(__file__).resolve().parents[2]
