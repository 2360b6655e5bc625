"""What a rejected district import reports: every wrong row as `file:line: column: message`."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class RowError:
    """One wrong cell, header or row; `line` is the physical line (the header is line 1)."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class DistrictImportError(ValidationError):
    """The import was refused and nothing was written; `row_errors` lists every wrong row."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = list(row_errors)
        super().__init__([str(error) for error in self.row_errors], code="district_import")
