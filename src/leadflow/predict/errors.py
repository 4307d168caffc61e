"""The one error the model code raises on bad input."""

from __future__ import annotations


class PredictError(ValueError):
    """Input the model code cannot use, with a message for the user and the column it concerns."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
