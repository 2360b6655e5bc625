"""The pages' one formatting module: numbers, counts, areas, money, progress, dates, dictionary lookups.

Pages round; machine outputs (JSON, API, exports) keep exact values and never come through here.
"""

import datetime as dt
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _

from policies.engine.amounts import yuan_text

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def num(value, places: int = 2) -> str:
    """A number with thousands separators and `places` decimals; "—" when unknown."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = f"{number:,.{int(places)}f}"
    # Never "-0.00": a rounded zero has no sign.
    return text[1:] if text.startswith("-") and Decimal(text.replace(",", "")) == 0 else text


@register.filter
def count(value) -> str:
    """A count as people read it: whole, with thousands separators ("10", not "10.00"); "—" unknown."""
    number = _decimal(value)
    if number is None:
        return "—"
    whole = number.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{abs(whole) if whole == 0 else whole:,f}"  # never "-0"


# Units whose figures are counts (the plan's 幢), shown whole wherever an indicator is shown.
COUNT_UNITS = frozenset({"幢"})


@register.filter
def measure(value, unit: str = "") -> str:
    """An indicator's figure in its unit's way: counts whole ("10 幢"), everything else to 0.01."""
    return count(value) if unit in COUNT_UNITS else num(value)


@register.filter
def area_wan(value) -> str:
    """Square metres in 万㎡ (10,000 m²), as the plan speaks of buildings and districts: two decimals."""
    number = _decimal(value)
    return "—" if number is None else num(number / 10_000, 2)


# The most decimals a progress label takes to keep a missed target below 100%.
PROGRESS_FINEST_PLACES = 2


@register.filter
def progress(value, places: int = 0) -> str:
    """A percentage of a target reached, for a progress bar's label: to `places` decimals, but a figure
    below 100 never reads "100%": it takes more decimals, up to two (99.5 shows as 99.5%, 99.97 as
    99.97%), and anything closer is cut, not rounded, to 99.99%, so a page never claims a target met that
    was missed. The one rule of the pages and of the white paper (which shows one decimal)."""
    number = _decimal(value)
    if number is None:
        return "—"
    places = int(places)
    finest = max(places, PROGRESS_FINEST_PLACES)
    shown = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    for finer in range(places + 1, finest + 1):
        if not number < 100 <= shown:
            break
        shown = number.quantize(Decimal(1).scaleb(-finer), rounding=ROUND_HALF_UP)
    if number < 100 <= shown:
        shown = number.quantize(Decimal(1).scaleb(-finest), rounding=ROUND_FLOOR)
    return f"{shown:,f}%"


@register.filter
def available(value, today=None) -> str:
    """When a space can be moved into: "可入驻 2027-03-01", or "即可入驻 / available now" when it has no
    date or the date has passed (a date long past means nothing to a promoter). `value` is a date or
    an ISO date string."""
    from django.utils import timezone
    from django.utils.translation import gettext

    if value in (None, ""):
        return gettext("即可入驻")
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if day <= (today or timezone.localdate()):
        return gettext("即可入驻")
    return gettext("可入驻 %(day)s") % {"day": day.isoformat()}


@register.filter
def yuan(value) -> str:
    """Yuan to the fen with thousands separators: "9,000,000", "1,727,450.85". The one formatter
    (policies.engine.amounts.yuan_text) that texts and the policy arithmetic use too."""
    return yuan_text(value)


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元 (10,000 yuan), one decimal."""
    number = _decimal(value)
    return "—" if number is None else num(number / 10_000, 1)


@register.filter
def bar(value, scale=1) -> str:
    """A CSS width in percent for a bar: value / scale × 100, kept within 0–100."""
    number, whole = _decimal(value), _decimal(scale)
    if number is None or not whole:
        return "0"
    share = max(Decimal(0), min(Decimal(100), number * 100 / whole))
    return f"{share:.1f}"


@register.filter
def percent(value, places: int = 0) -> str:
    """A share in [0, 1] as a percentage, rounded as every number of the pages (num). A share of a
    target reached is a `progress`, which never reads a miss as 100%."""
    number = _decimal(value)
    return "—" if number is None else f"{num(number * 100, places)}%"


@register.filter
def get(mapping, key):
    """mapping[key] for a dictionary or list, the attribute `key` of any other object; None if missing.

    A model row is read by attribute: the leaderboard reads each headline metric of a snapshot by its
    field name (reading it by subscript gave "—" for every figure)."""
    if mapping is None:
        return None
    if hasattr(mapping, "get"):
        return mapping.get(key)
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return getattr(mapping, str(key), None)


@register.simple_tag(takes_context=True)
def viewer_role(context) -> str | None:
    """The signed-in user's role (crm.web.access.role_of), for a part of a page only one role reads."""
    from crm.web.access import role_of

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return role_of(request)


# The navigation, in order: (url name, label). Who sees an entry is who may open its page
# (crm.web.access.may_open reads the view's own roles_required), so no entry leads to a 403.
NAV = (
    ("web:desk", _("工作台")),
    ("web:leads", _("招商线索")),
    ("web:board", _("线索看板")),
    ("web:buildings", _("楼宇")),
    ("web:vacancies", _("空置房源")),
    ("web:retention", _("稳商清单")),
    ("web:dashboard", _("规划看板")),
    ("web:leaderboard", _("招商考核")),
    ("web:assessment", _("镇街考核")),
    ("web:white_papers", _("白皮书")),
    ("web:policies", _("招商政策")),
    ("web:approvals", _("一事一议审批")),
    ("web:import", _("导入导出")),
)


@register.simple_tag(takes_context=True)
def may_open(context, url_name: str, *args) -> bool:
    """`{% may_open "web:lead_add" as can_add %}`: whether the user's role may open that page."""
    from crm.web.access import may_open as role_may_open

    return role_may_open(context["request"], url_name, *args)


@register.inclusion_tag("web/_nav.html", takes_context=True)
def nav(context):
    from django.urls import reverse

    from crm.web.access import may_open as role_may_open

    request = context["request"]
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {"url": reverse(name), "label": label, "current": name == current}
        for name, label in NAV
        if role_may_open(request, name)
    ]
    return {"items": items}
