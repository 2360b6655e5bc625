"""docs/import-format.md's table of files, keys and columns is the importer's (crm/district_io/rows.py)."""

import re
from pathlib import Path

from crm.district_io.rows import FILES

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"


def documented() -> dict[str, tuple[list[str], list[str]]]:
    """file -> (key columns, columns), read from the table's rows."""
    section = DOC.read_text().split("## Files, keys and columns", 1)[1]
    table = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        file, key, columns = (cell.strip() for cell in line.strip("|").split("|", 2))
        # A column is a backticked name at the start of the cell or after a comma; the rest explains it.
        names = re.findall(r"(?:^|, )`([a-z_0-9]+)`", columns)
        table[file.strip("`")] = (re.findall(r"`([a-z_0-9]+)`", key), names)
    return table


def test_every_file_of_the_importer_is_documented_with_its_key_and_columns_in_order():
    expected = {spec.name: (list(spec.key), spec.column_names) for spec in FILES}
    assert documented() == expected
