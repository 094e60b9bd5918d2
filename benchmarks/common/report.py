"""The closing table of a benchmark's targets, each PASS or FAIL, and its overall result."""

from __future__ import annotations

# One target: what was measured, the target, the measured figure, and whether it was met.
Check = tuple[str, str, str, bool]


def print_targets(checks: list[Check], width: int) -> bool:
    """Print the targets and RESULT: PASS or FAIL; True if every target was met."""
    print("\nTargets")
    for what, target, measured, passed in checks:
        print(f"  {what:<{width}} {target:>12} {measured:>10}  {'PASS' if passed else 'FAIL'}")
    good = all(passed for *_, passed in checks)
    print(f"\nRESULT: {'PASS' if good else 'FAIL'}")
    return good
