"""GB/T 4754-2017 codes: loading groups and classes from a district's file, and looking codes up."""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.constants import IndustryLevel
from crm.models import Industry
from crm.row_errors import RowError

SECTION = IndustryLevel.SECTION.value
DIVISION = IndustryLevel.DIVISION.value
GROUP = IndustryLevel.GROUP.value
CLASS = IndustryLevel.CLASS.value
LEVELS = (SECTION, DIVISION, GROUP, CLASS)

REQUIRED_COLUMNS = ("code", "level", "parent", "name_zh")
OPTIONAL_COLUMNS = ("name_en",)
# Sections and divisions are the project's own data (migration 0004): a file may repeat them, but
# only to be checked against the shipped rows, never to change them.
SHIPPED_LEVELS = frozenset({SECTION, DIVISION})
FINER_LEVELS = frozenset({GROUP, CLASS})
PARENT_LEVEL = {DIVISION: SECTION, GROUP: DIVISION, CLASS: GROUP}
DIGITS = {DIVISION: 2, GROUP: 3, CLASS: 4}
LEVEL_WORDS = {SECTION: "门类", DIVISION: "大类", GROUP: "中类", CLASS: "小类"}
FILE_COLUMN = "-"  # the column of an error about the whole file rather than one cell

Fail = Callable[[str, str], None]  # report (column, message) for the row being checked


class IndustryImportError(ValidationError):
    """An industry file with wrong rows; nothing of it was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.row_errors = errors
        super().__init__([str(error) for error in errors], code="invalid_industry_file")


@dataclass(frozen=True)
class IndustryRow:
    """One data row of an industry file, with where it came from."""

    file: str
    line: int
    code: str
    level: str
    parent: str
    name_zh: str
    name_en: str = ""


@dataclass
class IndustryImportResult:
    """How many rows of each level an import created, updated or found already as they were."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))


@dataclass(frozen=True)
class _Known:
    level: str
    section: str | None  # None when the row is in the file but its own parent is wrong
    line: int


def division_or_section(code: str) -> Industry | None:
    """The section (letter) or division (two digits) `code` names; None when `code` is blank."""
    given = (code or "").strip()
    if not given:
        return None
    industry = Industry.objects.filter(code=given.upper()).first()
    if industry is None:
        raise ValidationError(
            _("未知行业代码 %(code)s / unknown industry code %(code)s") % {"code": given},
            code="unknown_industry",
        )
    if industry.level not in SHIPPED_LEVELS:
        raise ValidationError(
            _(
                "行业代码 %(code)s 是%(level_zh)s,此处应为门类字母或两位大类代码 / industry code %(code)s "
                "is a %(level)s: give a section letter or a two-digit division"
            )
            % {"code": given, "level_zh": LEVEL_WORDS[industry.level], "level": industry.level},
            code="industry_too_fine",
        )
    return industry


def industries_import(*, rows: Iterable[IndustryRow]) -> IndustryImportResult:
    """Create or update groups and classes from `rows`, all or nothing; check repeated shipped rows."""
    return _import(rows, [])


def industries_import_csv(*, content: bytes, file: str) -> IndustryImportResult:
    """Import an industry CSV (UTF-8, BOM accepted); `file` is the name used in error messages."""
    rows, unreadable = industry_rows_from_csv(content=content, file=file)
    return _import(rows, unreadable)


def _import(rows: Iterable[IndustryRow], unreadable: list[RowError]) -> IndustryImportResult:
    with transaction.atomic():
        creates, updates, result, errors = _plan(rows)
        # In the file's order, so that a reader fixes the rows top to bottom.
        errors = sorted(unreadable + errors, key=lambda error: error.line)
        if errors:
            raise IndustryImportError(errors)
        _write(creates, updates)
    return result


def industry_rows_from_csv(*, content: bytes, file: str) -> tuple[list[IndustryRow], list[RowError]]:
    """The data rows of an industry CSV and the rows too broken to read; raises on a bad header."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise IndustryImportError(
            [RowError(file, line, FILE_COLUMN, _("不是 UTF-8 编码的文本 / not UTF-8 text"))]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip() for cell in next(reader, [])]
    _check_header(header, file)

    rows: list[IndustryRow] = []
    errors: list[RowError] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                RowError(
                    file,
                    reader.line_num,
                    FILE_COLUMN,
                    _(
                        "该行有 %(got)d 列,表头有 %(want)d 列 / "
                        "the row has %(got)d columns, the header %(want)d"
                    )
                    % {"got": len(cells), "want": len(header)},
                )
            )
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        rows.append(IndustryRow(file=file, line=reader.line_num, **values))
    return rows, errors


def _check_header(header: list[str], file: str) -> None:
    if not any(header):
        raise IndustryImportError([RowError(file, 1, FILE_COLUMN, _("文件为空 / the file is empty"))])
    errors = []
    allowed = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for index, column in enumerate(header):
        if column not in allowed:
            errors.append(
                RowError(
                    file,
                    1,
                    column or f"#{index + 1}",
                    _("未知列,允许的列为 %(allowed)s / unknown column, allowed: %(allowed)s")
                    % {"allowed": ", ".join(allowed)},
                )
            )
        elif header.index(column) != index:
            errors.append(RowError(file, 1, column, _("重复的列 / duplicate column")))
    for column in REQUIRED_COLUMNS:
        if column not in header:
            errors.append(RowError(file, 1, column, _("缺少列 / missing column")))
    if errors:
        raise IndustryImportError(errors)


def _plan(
    rows: Iterable[IndustryRow],
) -> tuple[list[Industry], list[Industry], IndustryImportResult, list[RowError]]:
    """Validate every row against the database and the rows before it; say what to create and update."""
    existing = {industry.code: industry for industry in Industry.objects.all()}
    seen: dict[str, _Known] = {}
    creates: list[Industry] = []
    updates: list[Industry] = []
    result = IndustryImportResult()
    errors: list[RowError] = []

    for row in rows:
        row_errors: list[RowError] = []
        fail = _reporter(row, row_errors)

        if not row.code:
            fail("code", _("必填 / required"))
        if row.level not in LEVELS:
            fail(
                "level",
                _(
                    "未知层级 %(level)s,应为 %(levels)s 之一 / "
                    "unknown level %(level)s, expected one of %(levels)s"
                )
                % {"level": row.level or '""', "levels": ", ".join(LEVELS)},
            )
        if not row.name_zh:
            fail("name_zh", _("必填 / required"))
        if row.code and row.code in seen:
            fail(
                "code",
                _("代码 %(code)s 已在第 %(line)d 行出现 / code %(code)s already appears on line %(line)d")
                % {"code": row.code, "line": seen[row.code].line},
            )
        elif row.code and row.level in SHIPPED_LEVELS:
            _check_shipped(row, existing, fail)
            shipped = existing.get(row.code)
            seen[row.code] = _Known(row.level, shipped.section if shipped else None, row.line)
        elif row.code and row.level in FINER_LEVELS:
            industry = _check_finer(row, existing, seen, fail)
            if industry is not None and not row_errors:
                if row.code not in existing:
                    creates.append(industry)
                    result.created[row.level] += 1
                elif _differs(existing[row.code], industry):
                    updates.append(industry)
                    result.updated[row.level] += 1
                else:
                    result.unchanged[row.level] += 1
        if row.level in SHIPPED_LEVELS and not row_errors:
            result.unchanged[row.level] += 1
        errors.extend(row_errors)
    return creates, updates, result, errors


def _reporter(row: IndustryRow, sink: list[RowError]) -> Fail:
    def fail(column: str, message: str) -> None:
        sink.append(RowError(row.file, row.line, column, message))

    return fail


def _check_shipped(row: IndustryRow, existing: dict[str, Industry], fail: Fail) -> None:
    """A section or division in the file must be the very row the project ships."""
    shipped = existing.get(row.code)
    if shipped is None or shipped.level != row.level:
        fail(
            "code",
            _("%(code)s 不是 GB/T 4754-2017 的%(level_zh)s / %(code)s is not a %(level)s of GB/T 4754-2017")
            % {"code": row.code, "level_zh": LEVEL_WORDS[row.level], "level": row.level},
        )
        return
    expected_parent = shipped.parent_id or ""
    if row.parent != expected_parent:
        if row.level == SECTION:
            fail("parent", _("门类没有上级,此列应为空 / a section has no parent: leave this blank"))
        else:
            fail(
                "parent",
                _(
                    "大类 %(code)s 属于门类 %(want)s,而不是 %(got)s / division %(code)s belongs to "
                    "section %(want)s, not %(got)s"
                )
                % {"code": row.code, "want": expected_parent, "got": row.parent or '""'},
            )
    if row.name_zh and row.name_zh != shipped.name_zh:
        # A different name for a shipped code usually means a file of another edition of the standard
        # (2011 numbers several divisions differently): refuse it rather than mix editions.
        fail(
            "name_zh",
            _("与 GB/T 4754-2017 的名称“%(want)s”不符 / differs from the GB/T 4754-2017 name “%(want)s”")
            % {"want": shipped.name_zh},
        )


def _check_finer(
    row: IndustryRow, existing: dict[str, Industry], seen: dict[str, _Known], fail: Fail
) -> Industry | None:
    """Check a group or class row; return the Industry it describes, or None when it is wrong."""
    level = row.level
    parent_level = PARENT_LEVEL[level]
    words = {
        "level_zh": LEVEL_WORDS[level],
        "level": level,
        "parent_zh": LEVEL_WORDS[parent_level],
        "parent_level": parent_level,
        "digits": DIGITS[level],
        "code": row.code,
        "parent": row.parent,
    }
    code_ok = len(row.code) == DIGITS[level] and row.code.isascii() and row.code.isdigit()
    if not code_ok:
        fail(
            "code",
            _(
                "%(level_zh)s代码应为%(digits)d位数字,而不是 %(code)s / "
                "a %(level)s code is %(digits)d digits, not %(code)s"
            )
            % words,
        )
    else:
        # Registered before the parent check, so that the rows under a row with a wrong parent are
        # not all reported as orphans too.
        seen[row.code] = _Known(level, None, row.line)

    parent_section: str | None = None
    if not row.parent:
        fail("parent", _("必填 / required"))
        return None
    if row.parent in seen:
        parent_found_level, parent_section = seen[row.parent].level, seen[row.parent].section
    elif row.parent in existing:
        parent_found_level, parent_section = existing[row.parent].level, existing[row.parent].section
    else:
        fail("parent", _("未知上级代码 %(parent)s / unknown parent code %(parent)s") % words)
        return None
    if parent_found_level != parent_level:
        fail(
            "parent",
            _(
                "%(level_zh)s的上级应为%(parent_zh)s,%(parent)s 是%(found_zh)s / a %(level)s's parent "
                "must be a %(parent_level)s; %(parent)s is a %(found)s"
            )
            % {**words, "found_zh": LEVEL_WORDS[parent_found_level], "found": parent_found_level},
        )
        return None
    if not code_ok:
        return None
    if row.code[:-1] != row.parent:
        fail(
            "code",
            _(
                "%(level_zh)s代码应为上级%(parent_zh)s代码 %(parent)s 加一位数字 / a %(level)s code is its "
                "parent %(parent_level)s %(parent)s plus one digit"
            )
            % words,
        )
        return None

    seen[row.code] = _Known(level, parent_section, row.line)
    if parent_section is None:
        return None  # the parent row is itself wrong and already reported
    previous = existing.get(row.code)
    industry = Industry(
        code=row.code,
        level=level,
        parent_id=row.parent,
        section=parent_section,
        name_zh=row.name_zh,
        # Blank means "not known" (import-format.md): keep an English name the row already has.
        name_en=row.name_en or (previous.name_en if previous else ""),
    )
    # Uniqueness, the parent and the level constraint are checked above against one snapshot of the
    # table, which is cheaper than full_clean()'s query per row; the field rules (lengths) still apply.
    try:
        # A blank Chinese name is already reported by the caller; do not report it twice.
        industry.clean_fields(exclude=["parent"] if row.name_zh else ["parent", "name_zh"])
    except ValidationError as exc:
        for column, messages in exc.message_dict.items():
            for message in messages:
                fail(column, message)
        return None
    return industry


def _differs(old: Industry, new: Industry) -> bool:
    fields = ("level", "parent_id", "section", "name_zh", "name_en")
    return any(getattr(old, name) != getattr(new, name) for name in fields)


def _write(creates: list[Industry], updates: list[Industry]) -> None:
    # The file lists a parent before its children, so creating in file order satisfies the foreign key
    # even where constraints are checked immediately.
    Industry.objects.bulk_create(creates)
    Industry.objects.bulk_update(updates, ["level", "parent", "section", "name_zh", "name_en"])
