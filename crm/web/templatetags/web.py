"""Small formatting helpers of the pages: money, percentages, bar widths, dictionary lookups."""

from decimal import Decimal, InvalidOperation

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
    """A share in [0, 1] as a percentage."""
    number = _decimal(value)
    return "—" if number is None else f"{number * 100:.{int(places)}f}%"


@register.filter
def get(mapping, key):
    """mapping[key], or None."""
    if mapping is None:
        return None
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


# The navigation, in order: (url name, label). Who sees an entry is who may open its page
# (crm.web.access.may_open reads the view's own roles_required), so no entry leads to a 403.
NAV = (
    ("web:desk", _("工作台")),
    ("web:leads", _("招商线索")),
    ("web:board", _("线索看板")),
    ("web:buildings", _("楼宇")),
    ("web:vacancies", _("空置房源")),
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
