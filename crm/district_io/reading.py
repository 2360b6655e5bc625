"""Reading a district's files: a directory or .zip of CSVs (UTF-8, BOM accepted), or one .xlsx workbook."""

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

import openpyxl

from crm.district_io.archives import archive_problem
from crm.district_io.errors import RowError

ROW = "-"  # the column named in an error about a whole row or file


@dataclass
class RawTable:
    """One file (or sheet): its header and its data rows as (physical line, cells), read lazily.

    Errors met while reading the rows (a malformed CSV quote, say) are appended to `errors`.
    """

    file: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    header_line: int = 1
    errors: list[RowError] = field(default_factory=list)


Source = str | Path | IO[bytes]


def read_source(source: Source, file_names: list[str]) -> tuple[dict[str, RawTable], list[RowError]]:
    tables, errors = _read(source, file_names)
    if not tables and not errors:
        label = Path(str(getattr(source, "name", source))).name
        expected = ", ".join(file_names)
        errors.append(
            RowError(
                label, 1, ROW, f"没有可导入的文件,应为 {expected} / no file to import, expected {expected}"
            )
        )
    return tables, errors


def _read(source: Source, file_names: list[str]) -> tuple[dict[str, RawTable], list[RowError]]:
    """The tables found in `source`, by canonical file name (`streets.csv`, ...), and the read errors.

    `source` is a directory, a .zip of CSV files, an .xlsx workbook, or an open binary file whose
    name ends in .zip or .xlsx (an upload). Files not named in `file_names` are errors, so that a
    misspelt file is not silently skipped.
    """
    name = str(getattr(source, "name", source))
    if isinstance(source, str | Path) and Path(source).is_dir():
        files = {
            path.name: path.read_bytes
            for path in sorted(Path(source).iterdir())
            if path.is_file() and path.suffix.lower() == ".csv" and not path.name.startswith(".")
        }
        return _read_csv_files(files, file_names, Path(source).name)
    suffix = Path(name).suffix.lower()
    if suffix in (".zip", ".xlsx"):
        problem = archive_problem(source)
        if problem:
            return {}, [RowError(Path(name).name, 1, ROW, problem)]
    if suffix == ".zip":
        return _read_zip(source, file_names, Path(name).name)
    if suffix == ".xlsx":
        return _read_workbook(source, file_names, Path(name).name)
    return {}, [
        RowError(
            Path(name).name,
            1,
            ROW,
            "应为目录、.zip 或 .xlsx 文件 / expected a directory, a .zip or an .xlsx file",
        )
    ]


def _read_zip(source: Source, file_names: list[str], label: str):
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        return {}, [RowError(label, 1, ROW, f"无法读取压缩包 / cannot read the zip file: {exc}")]
    files = {}
    errors = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if info.is_dir() or path.suffix.lower() != ".csv" or "__MACOSX" in path.parts:
            continue
        if path.name.startswith("."):
            continue
        if path.name in files:
            errors.append(RowError(path.name, 1, ROW, "压缩包内有同名文件 / the zip holds this file twice"))
            continue
        files[path.name] = lambda info=info: archive.read(info)
    tables, read_errors = _read_csv_files(files, file_names, label)
    return tables, errors + read_errors


def _read_csv_files(files: dict, file_names: list[str], label: str):
    tables: dict[str, RawTable] = {}
    errors: list[RowError] = []
    for name, read in files.items():
        if name not in file_names:
            errors.append(_unknown_file(name, file_names, "文件", "file"))
            continue
        table, error = _read_csv(name, read())
        if error:
            errors.append(error)
        else:
            tables[name] = table
    return tables, errors


def _unknown_file(name: str, file_names: list[str], zh: str, en: str) -> RowError:
    expected = ", ".join(file_names)
    return RowError(
        name, 1, ROW, f"未知的{zh},应为 {expected} 之一 / unknown {en}, expected one of {expected}"
    )


def _read_csv(name: str, data: bytes) -> tuple[RawTable | None, RowError | None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, RowError(name, line, ROW, "不是 UTF-8 编码 / not UTF-8 text")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        return None, RowError(name, 1, ROW, f"CSV 格式错误 / malformed CSV: {exc}")
    header_end = reader.line_num
    header = [cell.strip() for cell in header]
    while header and not header[-1]:
        header.pop()
    if not header:
        return None, RowError(name, 1, ROW, "缺少表头 / no header row")
    table = RawTable(name, header, iter(()), header_line=header_end)
    table.rows = _csv_rows(reader, table)
    return table, None


def _csv_rows(reader, table: RawTable) -> Iterator[tuple[int, list[str]]]:
    # A record starts on the line after the previous one ended; quoted cells may span lines.
    previous_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            table.errors.append(
                RowError(table.file, previous_end + 1, ROW, f"CSV 格式错误 / malformed CSV: {exc}")
            )
            return
        start = previous_end + 1
        previous_end = reader.line_num
        cells = [cell.strip() for cell in cells]
        if any(cells):
            yield start, cells


def _read_workbook(source: Source, file_names: list[str], label: str):
    # openpyxl parses the workbook's XML with defusedxml when it is installed (it is a dependency):
    # a DTD with entities (a "billion laughs" bomb) or an external entity is refused, not expanded.
    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        return {}, [RowError(label, 1, ROW, f"无法读取 Excel 工作簿 / cannot read the workbook: {exc}")]
    stems = {name.removesuffix(".csv"): name for name in file_names}
    tables: dict[str, RawTable] = {}
    errors: list[RowError] = []
    for sheet in workbook.worksheets:
        title = sheet.title.strip()
        canonical = stems.get(title) or (title if title in file_names else None)
        if canonical is None:
            errors.append(_unknown_file(title, list(stems), "工作表", "sheet"))
            continue
        # The sheet's declared dimension (<dimension ref="A1:XFD100001"/>) is the sender's word, and
        # read-only openpyxl pads every row out to it: read the cells that are there instead.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        try:
            header = [_cell_text(value) for value in next(rows, ())]
        except Exception as exc:  # the sheet's XML is parsed lazily, here first
            errors.append(_unreadable_sheet(title, 1, exc))
            continue
        while header and not header[-1]:
            header.pop()
        if not header:
            errors.append(RowError(title, 1, ROW, "缺少表头 / no header row"))
            continue
        table = RawTable(title, header, iter(()))
        table.rows = _sheet_rows(rows, table)
        tables[canonical] = table
    return tables, errors


def _unreadable_sheet(title: str, line: int, exc: Exception) -> RowError:
    reason = f"{type(exc).__name__}: {exc}"[:300]
    return RowError(
        title, line, ROW, f"无法读取工作表(XML 格式错误)/ cannot read the sheet (malformed XML): {reason}"
    )


def _sheet_rows(rows, table: RawTable) -> Iterator[tuple[int, list[str]]]:
    line = 1
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # malformed XML further down the sheet: reported like a CSV's
            table.errors.append(_unreadable_sheet(table.file, line + 1, exc))
            return
        line += 1
        cells = [_cell_text(value) for value in values]
        if any(cells):
            yield line, cells


def _cell_text(value) -> str:
    """A typed spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()
