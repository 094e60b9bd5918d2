"""A published cell's figures as everyone sees them: counts, shares and net score, or nothing at all.

A cell that was suppressed and a cell with no ratings come out exactly alike: null figures and the same note.
"""

from __future__ import annotations

from pulse.models.published import PublishedCell

NOT_SHOWN = "not enough ratings to show"
# A published cell's figures, in the order describe_figures takes them.
CELL_FIGURES = (PublishedCell.red, PublishedCell.amber, PublishedCell.green, PublishedCell.contributors)


def describe_figures(red: int | None, amber: int | None, green: int | None, contributors: int | None) -> dict:
    """Counts with shares and net score, or all nulls and the note when the cell shows nothing."""
    total = (red or 0) + (amber or 0) + (green or 0)
    if red is None or amber is None or green is None or total == 0:
        return {
            "red": None,
            "amber": None,
            "green": None,
            "ratings": None,
            "contributors": None,
            "pct_red": None,
            "pct_amber": None,
            "pct_green": None,
            "net_score": None,
            "note": NOT_SHOWN,
        }
    # Written out rather than looped over COLOURS: a year of days calls this for every day and band.
    return {
        "red": red,
        "amber": amber,
        "green": green,
        "ratings": total,
        "contributors": contributors,
        "pct_red": round(100 * red / total, 1),
        "pct_amber": round(100 * amber / total, 1),
        "pct_green": round(100 * green / total, 1),
        "net_score": round(100 * (green - red) / total, 1),
        "note": None,
    }


def describe_cell(cell: PublishedCell | None) -> dict:
    """A published cell's figures (as describe_figures); no cell shows nothing."""
    if cell is None:
        return describe_figures(None, None, None, None)
    return describe_figures(cell.red, cell.amber, cell.green, cell.contributors)
