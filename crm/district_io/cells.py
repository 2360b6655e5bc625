"""Spreadsheet cells that stay data: formula escaping for every CSV and XLSX export, undone on import.

A cell starting with =, +, -, @ (or their full-width forms, which Chinese input methods type), a tab
or a carriage return is read by Excel, WPS and LibreOffice as a formula ("CSV injection"): a company
name like =HYPERLINK(...) would run when an officer opens the export. Such a cell is written with a
leading apostrophe, OWASP's advice; a plain number such as -5 or +86 is harmless and left alone.

The district import undoes the escape, so that an exported file imports back to the same values:
`formula_unescape(formula_escape(text)) == text` for every text (a text that itself starts with an
apostrophe followed by one of those characters gets a second apostrophe).
"""

import re

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
APOSTROPHE = "'"
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _starts_formula(text: str) -> bool:
    return text[:1] in FORMULA_STARTS and not PLAIN_NUMBER.fullmatch(text)


def formula_escape(text: str) -> str:
    """`text` as a cell that no spreadsheet runs: an apostrophe before a formula's first character."""
    if _starts_formula(text) or (text[:1] == APOSTROPHE and text[1:2] in FORMULA_STARTS | {APOSTROPHE}):
        return APOSTROPHE + text
    return text


def formula_unescape(text: str) -> str:
    """The text formula_escape was given (a cell of an exported file, read back)."""
    if text[:1] == APOSTROPHE and text[1:2] in FORMULA_STARTS | {APOSTROPHE}:
        return text[1:]
    return text


def safe_cell(value):
    """Any value bound for a CSV or XLSX cell: text escaped, and stripped of the control characters
    XLSX cannot hold (older rows may have them; new input refuses them, crm.validators)."""
    if isinstance(value, str):
        return formula_escape(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value
