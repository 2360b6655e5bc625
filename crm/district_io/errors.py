"""What a rejected district import reports: every wrong row as `file:line: column: message`."""

from django.core.exceptions import ValidationError

from crm.row_errors import RowError


class DistrictImportError(ValidationError):
    """The import was refused and nothing was written; `row_errors` lists every wrong row."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = list(row_errors)
        super().__init__([str(error) for error in self.row_errors], code="district_import")
