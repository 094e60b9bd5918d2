"""What the CSV imports (structure, roster) say about a bad file: each problem with its line and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class CsvImportError(Exception):
    """The file has errors; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = errors


def row_errors(line: int, messages: Any) -> list[RowError]:
    """One RowError per field of a marshmallow ValidationError's messages."""
    if isinstance(messages, dict):
        return [
            RowError(line, str(f), " ".join(map(str, m)) if isinstance(m, list) else str(m))
            for f, m in messages.items()
        ]
    return [RowError(line, "row", str(messages))]
