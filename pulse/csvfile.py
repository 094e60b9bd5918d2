"""Every CSV file Pulse writes, written one way: no cell can start a spreadsheet formula.

A name is typed by someone in the organisation, and a CSV file is opened by someone else, often in Excel or
LibreOffice, which run a cell that starts with = + - @ (or a tab or carriage return before one) as a formula:
`=HYPERLINK(...)` sends data away, `+cmd|' /C calc'!A0` runs a program. Following OWASP's CSV injection
guidance, such a text cell is written with a leading apostrophe, which spreadsheets take as "this is text" and
do not show. Numbers are written as they are (a negative net score stays a number).

A text cell that itself starts with an apostrophe gets one more, so the rule can be undone exactly: `restore`
takes one leading apostrophe off a cell that has one before any of these characters. The structure import
does so, and a structure file exported by Pulse imports unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

# OWASP: = + - @, tab (0x09) and carriage return (0x0D). The apostrophe itself, so that `restore` is exact.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write: text that a spreadsheet would run gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The text `neutralise` was given (for reading back a file Pulse wrote)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], every: int = 1000) -> Iterator[str]:
    """The header, then the rows, as CSV text in chunks of `every` rows (for streaming a long file)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, start=1):
        writer.writerow({column: neutralise(row.get(column)) for column in columns})
        if i % every == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """The whole file as one string."""
    return "".join(csv_chunks(rows, columns))
