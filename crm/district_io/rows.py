"""The files of import-format.md: their columns and keys, and each cell turned into a value and back."""

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.constants import (
    ActivityKind,
    FeaturedType,
    IndicatorKey,
    LawfulBasis,
    LeadChannel,
    LeadStage,
    Role,
    StreetKind,
    UnitStatus,
)
from crm.credit_code import credit_code_error, normalise_credit_code
from crm.district_io.cells import formula_escape, formula_unescape
from crm.district_io.errors import RowError
from crm.district_io.reading import ROW, RawTable
from crm.models.appraisal import PERCENT_METRICS, Metric, PeriodKind
from crm.models.people import Agency
from crm.validators import MAX_TEXT_LENGTH, REPORT_YEAR_MIN, YEAR_MAX, date_range_error, unsafe_text_error
from policies.engine.terms import HORIZON_YEARS
from policies.models import SCOPE_CHOICES, ApprovalStatus

# A blank cell of a column whose field has a default: keep the row's value, or the default when new.
OMIT = object()


class CellError(Exception):
    """One cell that cannot be read; the message is bilingual."""


class Kind:
    """How one column's cells read and write; subclasses override parse and format."""

    blank: Any = None  # the value of a blank cell (OMIT: the field's default / the current value)

    def parse(self, text: str) -> Any:
        return text

    def format(self, value: Any) -> str:
        return "" if value is None else str(value)


class Text(Kind):
    blank = ""

    def __init__(self, max_length: int = MAX_TEXT_LENGTH):
        self.max_length = max_length

    def parse(self, text: str) -> str:
        if self.max_length and len(text) > self.max_length:
            raise CellError(
                f"过长(最多 {self.max_length} 个字符)/ too long (at most {self.max_length} characters)"
            )
        return text


class Name(Text):
    """A reference to another row by its key (a code, name, username or ref): blank is 'none'."""

    blank = None


class Username(Text):
    blank = None

    def parse(self, text: str) -> str:
        text = super().parse(text)
        try:
            UnicodeUsernameValidator()(text)
        except ValidationError as exc:
            raise CellError(f"用户名只能包含字母、数字和 @/./+/-/_ / invalid username: {text}") from exc
        return text


class Choice(Kind):
    def __init__(self, choices: type, blank: Any = OMIT):
        self.values = list(choices.values)
        self.blank = blank

    def parse(self, text: str) -> str:
        if text not in self.values:
            expected = " / ".join(self.values)
            raise CellError(f"未知的取值 {text},应为 {expected} / unknown value {text}, expected {expected}")
        return text

    def format(self, value: Any) -> str:
        return value or ""


class Number(Kind):
    """A decimal with the model field's precision; `minimum` is inclusive, `positive` means > 0."""

    def __init__(
        self,
        max_digits: int,
        decimal_places: int,
        *,
        positive: bool = False,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ):
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.positive = positive
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise CellError(f"不是数字: {text} / not a number: {text}") from None
        if not value.is_finite():
            raise CellError(f"不是数字: {text} / not a number: {text}")
        step = Decimal(1).scaleb(-self.decimal_places)
        if value.quantize(step) != value:
            places = self.decimal_places
            raise CellError(f"最多 {places} 位小数: {text} / at most {places} decimal places: {text}")
        if abs(value) >= Decimal(10) ** (self.max_digits - self.decimal_places):
            raise CellError(f"数值过大: {text} / too large: {text}")
        if self.positive and value <= 0:
            raise CellError(f"必须大于0: {text} / must be greater than 0: {text}")
        if self.minimum is not None and value < self.minimum:
            if self.minimum == 0:
                raise CellError(f"不能为负数: {text} / must not be negative: {text}")
            raise CellError(f"不能小于 {self.minimum}: {text} / must be at least {self.minimum}: {text}")
        if self.maximum is not None and value > self.maximum:
            raise CellError(f"不能大于 {self.maximum}: {text} / must be at most {self.maximum}: {text}")
        return value

    def format(self, value: Any) -> str:
        return "" if value is None else format(Decimal(value), "f")


class Integer(Kind):
    def __init__(self, minimum: int | None = None, maximum: int | None = None, blank: Any = None):
        self.minimum = minimum
        self.maximum = maximum
        self.blank = blank

    def parse(self, text: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise CellError(f"不是整数: {text} / not a whole number: {text}")
        value = int(text)
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                raise CellError(f"不能小于 {low}: {text} / must be at least {low}: {text}")
            raise CellError(f"应在 {low} 到 {high} 之间: {text} / must be between {low} and {high}: {text}")
        return value


class Boolean(Kind):
    blank = OMIT
    TRUE = {"true", "1", "yes", "是"}
    FALSE = {"false", "0", "no", "否"}

    def parse(self, text: str) -> bool:
        folded = text.casefold()
        if folded in self.TRUE:
            return True
        if folded in self.FALSE:
            return False
        raise CellError(f"不是布尔值(true/false、1/0、yes/no、是/否): {text} / not a boolean: {text}")

    def format(self, value: Any) -> str:
        return "true" if value else "false"


def _refuse_out_of_range(value: dt.date, text: str) -> None:
    if date_range_error(value):
        raise CellError(f"{date_range_error(value)}: {text}")


class Date(Kind):
    def parse(self, text: str) -> dt.date:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise CellError(f"日期应为 YYYY-MM-DD: {text} / not an ISO date YYYY-MM-DD: {text}") from None
        _refuse_out_of_range(value, text)
        return value

    def format(self, value: Any) -> str:
        return "" if value is None else value.isoformat()


DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?")


class DateTime(Kind):
    """An ISO date-time; without an offset it is local time (settings.TIME_ZONE), a bare date is midnight.

    Written back as local time without an offset, which reads back to the same instant.
    """

    def parse(self, text: str) -> dt.datetime:
        try:
            if not DATETIME.fullmatch(text):
                raise ValueError
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CellError(
                f"时间应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM[:SS]: {text} / not an ISO date-time: {text}"
            ) from None
        # Checked before it is made aware: year 1 in Asia/Shanghai is 1 BC in UTC.
        _refuse_out_of_range(value, text)
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    def format(self, value: Any) -> str:
        if value is None:
            return ""
        return timezone.localtime(value).replace(tzinfo=None).isoformat(sep=" ")


@functools.lru_cache(maxsize=200_000)
def _credit_code_error(code: str) -> str | None:
    # tax.csv names each enterprise once per month: check each code once.
    return credit_code_error(code)


class CreditCode(Kind):
    blank = ""

    def parse(self, text: str) -> str:
        code = normalise_credit_code(text)
        error = _credit_code_error(code)
        if error:
            raise CellError(error)
        return code


class IndustryCode(Kind):
    """A section letter or a division; a division typed into a spreadsheet as the number 1 means 01."""

    def parse(self, text: str) -> str:
        code = text.upper()
        return code.zfill(2) if code.isdigit() and len(code) == 1 else code


class NameList(Kind):
    """Names separated by `;` (a full-width `；` too); written back sorted so exports are stable."""

    blank = ()

    def parse(self, text: str) -> tuple[str, ...]:
        names = (part.strip() for part in re.split(r"[;；]", text))
        return tuple(dict.fromkeys(name for name in names if name))

    def format(self, value: Any) -> str:
        return ";".join(sorted(value or ()))


class Json(Kind):
    """A JSON object as one cell: keys sorted and no ASCII escapes, so that an export is stable."""

    def parse(self, text: str) -> dict:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise CellError(f"不是 JSON: {exc} / not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise CellError("应为 JSON 对象 {...} / expected a JSON object {...}")
        return value

    def format(self, value: Any) -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    # A required column must be in the header and, unless blank_ok, have a value in every row.
    required: bool = False
    blank_ok: bool = False


@dataclass(frozen=True)
class FileSpec:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".csv")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def _c(name: str, kind: Kind, required: bool = False, blank_ok: bool = False) -> Column:
    return Column(name, kind, required, blank_ok)


AREA = {"max_digits": 12, "decimal_places": 2}
RENT = {"max_digits": 8, "decimal_places": 2}

STREETS = FileSpec(
    "streets.csv", ("name",), (_c("name", Text(100), True), _c("kind", Choice(StreetKind), True))
)
BUILDINGS = FileSpec(
    "buildings.csv",
    ("code",),
    (
        _c("code", Text(40), True),
        _c("name", Text(200), True),
        _c("street", Name(100), True),
        _c("business_circle", Name(100)),
        _c("address", Text(300)),
        _c("gross_area_m2", Number(**AREA, positive=True), True),
        _c("leasable_area_m2", Number(**AREA, positive=True), True),
        _c("floors", Integer(0, 32767)),
        _c("in_service_since", Date()),
        _c("star_rating", Integer(0, 5, blank=OMIT)),
        _c("star_since", Date()),
        _c("featured_type", Choice(FeaturedType, blank="")),
        _c("featured_since", Date()),
        _c("main_industry", IndustryCode()),
        _c("party_org_since", Date()),
        _c("intermediary_since", Date()),
        _c("smart_platform_since", Date()),
        _c("rent_min", Number(**RENT, minimum=Decimal(0))),
        _c("rent_max", Number(**RENT, minimum=Decimal(0))),
        _c("lat", Number(9, 6, minimum=Decimal(-90), maximum=Decimal(90))),
        _c("lng", Number(9, 6, minimum=Decimal(-180), maximum=Decimal(180))),
    ),
)
UNITS = FileSpec(
    "units.csv",
    ("building", "number"),
    (
        _c("building", Name(40), True),
        _c("floor", Integer(-32768, 32767), True),
        _c("number", Text(40), True),
        _c("area_m2", Number(**AREA, positive=True), True),
        _c("status", Choice(UnitStatus)),
        _c("asking_rent", Number(**RENT, minimum=Decimal(0))),
        _c("available_from", Date()),
    ),
)
ENTERPRISES = FileSpec(
    "enterprises.csv",
    ("credit_code",),
    (
        _c("credit_code", CreditCode(), True),
        _c("name", Text(200), True),
        _c("industry", IndustryCode()),
        _c("registered_in_district", Boolean()),
        _c("settles_in_district", Boolean()),
        _c("is_headquarters", Boolean()),
        _c("employees", Integer(0, 2_147_483_647)),
        _c("business_scope", Text()),
    ),
)
TENANCIES = FileSpec(
    "tenancies.csv",
    ("credit_code", "building", "start"),
    (
        _c("credit_code", CreditCode(), True),
        _c("building", Name(40), True),
        _c("units", NameList()),
        _c("area_m2", Number(**AREA, positive=True), True),
        _c("start", Date(), True),
        _c("end", Date()),
    ),
)
TAX = FileSpec(
    "tax.csv",
    ("credit_code", "year", "month"),
    (
        _c("credit_code", CreditCode(), True),
        _c("year", Integer(REPORT_YEAR_MIN, YEAR_MAX), True),
        _c("month", Integer(1, 12), True, blank_ok=True),
        _c("amount_yuan", Number(16, 2), True),
    ),
)
# Every login the other files name (promoters.csv adds a promoter's profile); never a password.
USERS = FileSpec(
    "users.csv",
    ("username",),
    (
        _c("username", Username(150), True),
        _c("first_name", Text(150)),
        _c("last_name", Text(150)),
        _c("email", Text(254)),
        _c("role", Choice(Role, blank=None)),
        _c("street", Name(100)),
        _c("building", Name(40)),
        _c("active", Boolean()),
    ),
)
PROMOTERS = FileSpec(
    "promoters.csv",
    ("username",),
    (
        _c("username", Username(150), True),
        _c("name", Text(100), True),
        _c("team", Text(100)),
        _c("is_team_lead", Boolean()),
        _c("street", Name(100)),
    ),
)
PROMOTER_TARGETS = FileSpec(
    "promoter_targets.csv",
    ("promoter", "period_kind", "period_start"),
    (
        _c("promoter", Name(150), True),
        _c("period_kind", Choice(PeriodKind), True),
        _c("period_start", Date(), True),
        *(
            _c(
                metric,
                Number(
                    16, 2, minimum=Decimal(0), maximum=Decimal(100) if metric in PERCENT_METRICS else None
                ),
            )
            for metric in Metric.values
        ),
    ),
)
STREET_TARGETS = FileSpec(
    "street_targets.csv",
    ("street", "year", "key"),
    (
        _c("street", Name(100), True),
        _c("year", Integer(REPORT_YEAR_MIN, YEAR_MAX), True),
        _c("key", Choice(IndicatorKey), True),
        _c("value", Number(14, 2, minimum=Decimal(0)), True),
    ),
)
AGENCIES = FileSpec(
    "agencies.csv",
    ("name",),
    (
        _c("name", Text(200), True),
        _c("kind", Choice(Agency.Kind)),
        _c("contact_name", Text(100)),
        _c("contact_phone", Text(40)),
        _c("active", Boolean()),
    ),
)
LEADS = FileSpec(
    "leads.csv",
    ("ref",),
    (
        _c("ref", Text(40), True),
        _c("company_name", Text(200), True),
        _c("credit_code", CreditCode()),
        _c("industry", IndustryCode()),
        _c("business_scope", Text()),
        _c("contact_name", Text(100)),
        _c("contact_phone", Text(40)),
        _c("lawful_basis", Choice(LawfulBasis, blank="")),
        _c("lawful_basis_recorded_at", DateTime()),
        _c("area_min_m2", Number(**AREA, positive=True)),
        _c("area_max_m2", Number(**AREA, positive=True)),
        _c("budget_rent", Number(**RENT, minimum=Decimal(0))),
        _c("expected_annual_tax", Number(16, 2, minimum=Decimal(0))),
        _c("employees", Integer(0, 2_147_483_647)),
        _c("is_headquarters", Boolean()),
        _c("preferred_streets", NameList()),
        _c("desired_move_in", Date()),
        _c("registers_in_district", Boolean()),
        _c("settles_in_district", Boolean()),
        _c("pays_tax_in_district", Boolean()),
        _c("channel", Choice(LeadChannel), True),
        _c("owner", Name(150)),
        _c("agency", Name(200)),
        _c("referred_by", CreditCode()),
        _c("case_by_case", Boolean()),
        _c("stage", Choice(LeadStage)),
        _c("lost_reason", Text(300)),
        _c("created_at", DateTime(), True),
    ),
)
STAGE_CHANGES = FileSpec(
    "stage_changes.csv",
    ("lead", "changed_at", "to_stage"),
    (
        _c("lead", Name(40), True),
        _c("changed_at", DateTime(), True),
        _c("from_stage", Choice(LeadStage), True),
        _c("to_stage", Choice(LeadStage), True),
        _c("reason", Text(300)),
        _c("changed_by", Username(150)),
    ),
)
ACTIVITIES = FileSpec(
    "activities.csv",
    ("lead", "occurred_at", "kind"),
    (
        _c("lead", Name(40), True),
        _c("kind", Choice(ActivityKind), True),
        _c("occurred_at", DateTime(), True),
        _c("building", Name(40)),
        _c("unit", Name(40)),
        _c("promoter", Name(150)),
        _c("notes", Text()),
        _c("next_follow_up_at", DateTime()),
    ),
)
HOLDS = FileSpec(
    "holds.csv",
    ("building", "unit", "created_at"),
    (
        _c("building", Name(40), True),
        _c("unit", Name(40), True),
        _c("created_at", DateTime(), True),
        _c("lead", Name(40), True),
        _c("promoter", Name(150)),
        _c("expires_on", Date(), True),
        _c("released_at", DateTime()),
    ),
)
SIGNINGS = FileSpec(
    "signings.csv",
    ("lead", "building"),
    (
        _c("lead", Name(40), True),
        _c("building", Name(40), True),
        _c("units", NameList()),
        _c("area_m2", Number(**AREA, positive=True), True),
        _c("rent", Number(**RENT, minimum=Decimal(0))),
        _c("signed_on", Date(), True),
        _c("signed_by", Name(150)),
        _c("settled_at", DateTime()),
        _c("settled_by", Username(150)),
        _c("settle_override_reason", Text(300)),
        _c("cancelled_at", DateTime()),
        _c("cancelled_by", Username(150)),
        _c("cancel_reason", Text(300)),
    ),
)
MONEY = {"max_digits": 16, "decimal_places": 2}


class _Scope:
    """The policy scope's values (a list of choices, not a TextChoices class)."""

    values = [value for value, _ in SCOPE_CHOICES]


POLICIES = FileSpec(
    "policies.csv",
    ("name", "valid_from"),
    (
        _c("name", Text(200), True),
        _c("valid_from", Date(), True),
        _c("valid_to", Date()),
        _c("description", Text()),
        _c("scope", Choice(_Scope), True),
        _c("street", Name(100)),
        _c("business_circle", Name(100)),
        _c("building", Name(40)),
        _c("active", Boolean()),
        _c("priority", Integer(-32768, 32767, blank=OMIT)),
        _c("stacking_group", Text(40)),
        _c("condition", Text()),
        _c("calendar_years", Boolean()),
        _c("needs_approval", Boolean()),
        _c("approval_status", Choice(ApprovalStatus)),
        _c("lead", Name(40)),
        _c("proposed_by", Username(150)),
        _c("proposed_at", DateTime()),
        _c("reviewed_by", Username(150)),
        _c("reviewed_at", DateTime()),
        _c("review_note", Text(300)),
    ),
)
# A policy's benefits as a whole: the rows of one policy replace its benefits when they differ.
POLICY_BENEFITS = FileSpec(
    "policy_benefits.csv",
    ("policy", "policy_valid_from"),
    (
        _c("policy", Name(200), True),
        _c("policy_valid_from", Date(), True),
        _c("kind", Text(30), True),
        _c("percent", Number(6, 2)),
        _c("months", Integer(0, 32767)),
        _c("years", Integer(0, 32767)),
        _c("yuan_per_m2", Number(12, 2)),
        _c("amount_yuan", Number(**MONEY)),
        _c("cap_yuan", Number(**MONEY)),
        _c("yearly_cap_yuan", Number(**MONEY)),
    ),
)
COMMITMENTS = FileSpec(
    "commitments.csv",
    ("lead", "building"),
    (
        _c("lead", Name(40), True),
        _c("building", Name(40), True),
        _c("evaluated_on", Date(), True),
        _c("total_yuan", Number(**MONEY, minimum=Decimal(0)), True),
        _c("tax_retained_share", Number(4, 3, positive=True, maximum=Decimal(1)), True),
        _c("snapshot", Json(), True),
    ),
)
# A period of a commitment's schedule, named as the signing, the policy and benefit, and the year.
LINE_KEY = ("lead", "building", "policy_name", "benefit_kind", "beneficiary", "year_index")
LINE_KEY_COLUMNS = (
    _c("lead", Name(40), True),
    _c("building", Name(40), True),
    _c("policy_name", Text(200), True),
    _c("benefit_kind", Text(30), True),
    _c("beneficiary", Text(20), True),
    _c("year_index", Integer(1, HORIZON_YEARS), True),
)
COMMITMENT_LINES = FileSpec(
    "commitment_lines.csv",
    LINE_KEY,
    (
        *LINE_KEY_COLUMNS,
        _c("policy", Name(200)),
        _c("policy_valid_from", Date()),
        _c("year", Integer(REPORT_YEAR_MIN, YEAR_MAX), True),
        _c("period_start", Date(), True),
        _c("period_end", Date(), True),
        _c("amount_yuan", Number(**MONEY, positive=True), True),
        _c("withheld_at", DateTime()),
        _c("withheld_by", Username(150)),
        _c("withheld_reason", Text(300)),
        # the referring tenant a referral reward (beneficiary "referrer") is paid to
        _c("referrer", CreditCode()),
    ),
)
COMMITMENT_PAYMENTS = FileSpec(
    "commitment_payments.csv",
    (*LINE_KEY, "paid_on", "recorded_at"),
    (
        *LINE_KEY_COLUMNS,
        _c("paid_on", Date(), True),
        _c("amount_yuan", Number(**MONEY, positive=True), True),
        _c("note", Text(300)),
        _c("recorded_by", Username(150)),
        _c("recorded_at", DateTime(), True),
    ),
)

# The order import-format.md lists them in: each file may refer to rows of the files before it.
FILES: tuple[FileSpec, ...] = (
    STREETS,
    BUILDINGS,
    UNITS,
    ENTERPRISES,
    TENANCIES,
    TAX,
    USERS,
    PROMOTERS,
    PROMOTER_TARGETS,
    STREET_TARGETS,
    AGENCIES,
    LEADS,
    STAGE_CHANGES,
    ACTIVITIES,
    HOLDS,
    SIGNINGS,
    POLICIES,
    POLICY_BENEFITS,
    COMMITMENTS,
    COMMITMENT_LINES,
    COMMITMENT_PAYMENTS,
)
SPECS = {spec.name: spec for spec in FILES}


@dataclass(slots=True)
class ParsedRow:
    """One data row: the values of the columns in the header that read well, by column name.

    A column missing from the header is absent from `values` (an existing row keeps its value);
    a blank cell is present with the column's blank value, unless that is OMIT.
    """

    line: int
    values: dict[str, Any]
    bad: frozenset[str] = field(default_factory=frozenset)
    key: tuple | None = None  # None when a key column is missing or unreadable

    def ok(self, *columns: str) -> bool:
        """Whether none of these columns failed to read (so a check across them is meaningful)."""
        return not self.bad.intersection(columns)


def check_header(spec: FileSpec, table: RawTable, errors: list[RowError]) -> dict[str, int]:
    """Map each known column to its position; unknown, repeated and missing columns are errors."""
    known = set(spec.column_names)
    positions: dict[str, int] = {}
    line = table.header_line
    for index, name in enumerate(table.header):
        if not name:
            errors.append(RowError(table.file, line, f"#{index + 1}", "空列名 / empty column name"))
        elif name not in known:
            errors.append(RowError(table.file, line, name, "未知的列 / unknown column"))
        elif name in positions:
            errors.append(RowError(table.file, line, name, "列名重复 / repeated column"))
        else:
            positions[name] = index
    for column in spec.columns:
        if column.required and column.name not in positions:
            errors.append(RowError(table.file, line, column.name, "缺少必需的列 / missing required column"))
    return positions


def parse_rows(spec: FileSpec, table: RawTable, errors: list[RowError]) -> Iterator[ParsedRow]:
    """Read every data row of one file, reporting each unreadable cell; rows are yielded as they come."""
    positions = check_header(spec, table, errors)
    present = [(column, positions[column.name]) for column in spec.columns if column.name in positions]
    width = len(table.header)
    key_present = all(name in positions for name in spec.key)
    for line, cells in table.rows:
        if len(cells) > width and any(cells[width:]):
            errors.append(
                RowError(
                    table.file,
                    line,
                    ROW,
                    f"此行有 {len(cells)} 个值,表头只有 {width} 列 / "
                    f"this row has {len(cells)} values, the header has {width} columns",
                )
            )
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for column, position in present:
            text = formula_unescape(cells[position]) if position < len(cells) else ""
            if text == "":
                if column.required and not column.blank_ok:
                    errors.append(RowError(table.file, line, column.name, "必填 / required"))
                    bad.add(column.name)
                elif column.kind.blank is not OMIT:
                    values[column.name] = column.kind.blank
                continue
            try:
                # A NUL would fail the whole import in PostgreSQL, and a control character its export.
                unsafe = unsafe_text_error(text, max_length=None)
                if unsafe:
                    raise CellError(unsafe)
                values[column.name] = column.kind.parse(text)
            except CellError as exc:
                errors.append(RowError(table.file, line, column.name, str(exc)))
                bad.add(column.name)
        key = None
        if key_present and not bad.intersection(spec.key):
            key = tuple(values.get(name) for name in spec.key)
        yield ParsedRow(line, values, frozenset(bad), key)
    errors.extend(table.errors)


def format_row(spec: FileSpec, values: Iterable[Any]) -> list[str]:
    """The cells of one exported row, in the spec's column order."""
    return [
        formula_escape(column.kind.format(value)) for column, value in zip(spec.columns, values, strict=True)
    ]
