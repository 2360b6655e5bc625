"""Any list as a CSV or Excel download: the same rows the page filtered, every page of them."""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook

from crm.district_io.cells import safe_cell

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wanted_format(request) -> str | None:
    """'csv' or 'xlsx' when the list was asked for as a file (?export=csv), else None."""
    value = request.GET.get("export")
    return value if value in FORMATS else None


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Promise):  # a lazily translated label
        return str(value)
    # A company name like =HYPERLINK(...) must stay text in Excel (crm.district_io.cells).
    return safe_cell(value)


class _Echo:
    def write(self, value):
        return value


def export_response(
    *, name: str, fmt: str, header: Sequence[str], rows: Iterable[Sequence]
) -> HttpResponse | StreamingHttpResponse:
    """The rows as a download named `name`.csv / .xlsx; rows are read lazily (pass an iterator)."""
    stamp = timezone.localdate().isoformat()
    filename = f"{name}-{stamp}.{fmt}"
    disposition = f'attachment; filename="{filename}"'
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def lines():
            # A byte-order mark, so that Excel reads the Chinese text as UTF-8.
            yield "\ufeff" + writer.writerow(header)
            for row in rows:
                yield writer.writerow([_cell(v) for v in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = disposition
        return response
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=name[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = disposition
    return response
