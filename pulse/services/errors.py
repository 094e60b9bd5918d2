"""The error services raise for input they cannot accept; `field` names the input at fault."""

from __future__ import annotations


class InvalidInput(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
