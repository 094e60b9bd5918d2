"""Measurements of Pulse, not tests: each benchmark runs as `python -m benchmarks.<name>` from the
repository's root (see benchmarks/README.md). benchmarks.common holds what they share."""
