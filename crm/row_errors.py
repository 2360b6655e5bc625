"""A wrong row of an imported file, as every import of the project reports it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One wrong cell, header or row; `line` is the physical line (the header is line 1). Printed as
    `file:line: column: message`."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"
