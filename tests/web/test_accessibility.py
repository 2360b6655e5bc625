"""Accessibility basics: the palette's contrast (WCAG 2.x), a label for every input, headings in order."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from crm.constants import LeadStage
from crm.services.leads import lead_transition

CSS = Path(__file__).resolve().parents[2] / "crm" / "static" / "web" / "app.css"

# (text colour, background) pairs the pages use for text, by their names in app.css.
TEXT_PAIRS = [
    ("ink", "paper"),
    ("ink", "panel"),
    ("muted", "paper"),
    ("muted", "panel"),
    ("link", "paper"),
    ("good", "paper"),
    ("bad", "paper"),
    ("warn", "paper"),
    ("brand-ink", "brand"),
    ("brand", "paper"),
]
# Bars and the focus ring are graphics: WCAG 1.4.11 asks 3:1 against what is next to them.
GRAPHIC_PAIRS = [("bar", "bar-track"), ("bar", "paper"), ("good", "bar-track"), ("focus", "paper")]


def palette() -> dict[str, str]:
    root = re.search(r":root\s*{(.*?)}", CSS.read_text(), re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.x): linearised sRGB channels weighted 0.2126, 0.7152, 0.0722."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_gives_the_known_extremes():
    # black on white is 21:1 by definition ((1 + 0.05) / (0 + 0.05)); a colour on itself 1:1
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)
    # #767676 on white is the well-known lightest grey that passes AA: 4.54:1
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_text_colours_reach_aa_contrast(text, background):
    colours = palette()
    assert contrast(colours[text], colours[background]) >= 4.5


@pytest.mark.parametrize(("graphic", "background"), GRAPHIC_PAIRS)
def test_bars_and_focus_rings_reach_3_to_1(graphic, background):
    colours = palette()
    assert contrast(colours[graphic], colours[background]) >= 3.0


class _Page(HTMLParser):
    """Collects the form controls, the labels and the headings of a page."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.headings: list[int] = []
        self._open_labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and attrs.get("type") in ("hidden", "submit", "button"):
                return
            self.controls.append({**attrs, "tag": tag, "wrapped": self._open_labels > 0})
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag):
        if tag == "label":
            self._open_labels -= 1


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _as_fetched(url: str) -> dict[str, str]:
    """A fragment is fetched by htmx, with its header; opened directly it redirects to its page."""
    return {"HTTP_HX_REQUEST": "true"} if url.endswith("/matches/") else {}


def _pages(district) -> list[tuple[str, str]]:
    lead = district.lead
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    lead_transition(lead=lead, to_stage=LeadStage.NEGOTIATING)
    return [
        ("promoter", reverse("web:desk")),
        ("promoter", reverse("web:leads")),
        ("promoter", reverse("web:board")),
        ("promoter", reverse("web:lead_add")),
        ("promoter", reverse("web:lead", args=[lead.pk])),
        ("promoter", reverse("web:lead_matches", args=[lead.pk])),
        ("promoter", reverse("web:lead_sign", args=[lead.pk]) + f"?building={district.building.pk}"),
        ("promoter", reverse("web:buildings")),
        ("promoter", reverse("web:building", args=[district.building.pk])),
        ("promoter", reverse("web:vacancies")),
        ("promoter", reverse("web:policies")),
        ("promoter", reverse("web:policy_calculator")),
        ("promoter", reverse("web:password_change")),
        ("district_admin", reverse("web:dashboard")),
        ("district_admin", reverse("web:leaderboard")),
        ("district_admin", reverse("web:assessment")),
        ("district_admin", reverse("web:white_papers")),
        ("district_admin", reverse("web:approvals")),
        ("district_admin", reverse("web:import")),
    ]


@pytest.mark.django_db
def test_every_input_has_a_label(district):
    for role, url in _pages(district):
        # when
        page = _parse(district.client(role).get(url, **_as_fetched(url)).content.decode())

        # then: a <label for>, a wrapping <label>, or an aria-label
        unlabelled = [
            c
            for c in page.controls
            if not (c.get("id") in page.label_for or c["wrapped"] or c.get("aria-label"))
        ]
        assert unlabelled == [], url


@pytest.mark.django_db
def test_headings_start_at_one_and_never_skip_a_level(district):
    for role, url in _pages(district):
        # when
        response = district.client(role).get(url, **_as_fetched(url))
        levels = _parse(response.content.decode()).headings
        if (
            response.headers.get("Content-Type", "").startswith("text/html")
            and "<html" not in response.content.decode()
        ):
            continue  # an htmx fragment goes inside a page's own heading structure

        # then
        assert levels and levels[0] == 1, url
        assert levels.count(1) == 1, url
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (url, levels)
