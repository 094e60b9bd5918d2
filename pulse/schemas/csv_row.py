"""What every CSV row schema shares: empty cells mean "not given", surrounding spaces mean nothing, a row
with more cells than the header is refused, and a name that Pulse wrote with an apostrophe in front (so that
no spreadsheet runs it as a formula, pulse.csvfile) loses it again."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, pre_load

from pulse.csvfile import restore


class CsvRowSchema(Schema):
    # Columns whose values are read without regard to case (keywords such as "team" or "yes").
    CASE_INSENSITIVE: tuple[str, ...] = ()
    # Columns of free text, which Pulse's own CSV files may have written defused.
    TEXT_COLUMNS: tuple[str, ...] = ()

    @pre_load
    def drop_blanks(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        cleaned = {}
        for key, value in data.items():
            if key is None:  # more cells than headers
                raise ValidationError("This row has more cells than the header.", "row")
            value = value.strip() if isinstance(value, str) else value
            if key in self.TEXT_COLUMNS and isinstance(value, str):
                value = restore(value)
            if value not in ("", None):
                cleaned[key] = value.lower() if key in self.CASE_INSENSITIVE else value
        return cleaned
