"""A district's data in and out as the spreadsheet files of import-format.md (rows.FILES)."""

from crm.district_io.errors import DistrictImportError, RowError
from crm.district_io.exporting import district_export
from crm.district_io.importing import FileCounts, ImportReport, district_import
from crm.district_io.rows import FILES

__all__ = [
    "FILES",
    "DistrictImportError",
    "FileCounts",
    "ImportReport",
    "RowError",
    "district_export",
    "district_import",
]
