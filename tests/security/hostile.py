"""The catalogue of malformed and hostile input, and a hypothesis strategy for hostile text."""

from hypothesis import strategies as st

MEGABYTE = 1024 * 1024

# Text no write path may accept: the database cannot hold it, an export cannot write it, or it makes
# a name read as something else.
REFUSED_TEXT = {
    "nul": "甲\x00乙",
    "lone surrogate": "甲\ud800乙",
    "escape sequence": "\x1b[2J\x1b[31m红",
    "bell": "甲\x07乙",
    "vertical tab": "甲\x0b乙",
    "c1 control": "甲\x85乙",
    "right-to-left override": "invoice\u202egpj.exe",
    "left-to-right isolate": "甲\u2066乙\u2069",
    "one megabyte": "x" * MEGABYTE,
}

# Text that is only text: stored as sent, shown escaped, exported escaped.
ACCEPTED_TEXT = {
    "sql": "甲'); DROP TABLE crm_lead; --",
    "sql union": "' OR 1=1 UNION SELECT password FROM auth_user --",
    "script": "<script>alert('乙')</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "template": "{{ request.user }}{% debug %}",
    "emoji": "丙 🏢 👩‍💻 🇨🇳",
    "zero-width joiner": "丁\u200d戊\u200c己",
    "combining marks": "Cafe\u0301 Z\u0351\u0336a\u0324\u035b",
    "right-to-left mark": "شركة\u200fالتقنية",
    "formula": '=HYPERLINK("http://evil.example","点我")',
    "full-width": "ＡＢＣ有限公司",
}

# Numbers no amount, area, rent or count may take.
BAD_DECIMALS = {
    "nan": "NaN",
    "infinity": "Infinity",
    "minus infinity": "-Infinity",
    "huge float": 1e308,
    "huge text": "1e308",
    "ten to the thirty": 10**30,
    "too many places": "1.123456789",
    "not a number": "abc",
    "thousands separator": "1,000",
    "list": [1],
    "object": {"value": 1},
    "boolean": True,
    "sql": "1; DROP TABLE crm_lead",
}
NEGATIVE = {"minus one": -1, "minus a cent": "-0.01"}

BAD_INTEGERS = {
    "nan": "NaN",
    "huge float": 1e308,
    "ten to the thirty": 10**30,
    "fraction": 1.5,
    "not a number": "abc",
    "list": [1],
    "boolean": True,
}

BAD_DATES = {
    "february 30": "2024-02-30",
    "month 13": "2024-13-01",
    "year 0": "0000-01-01",
    "five-digit year": "10000-01-01",
    "year one": "0001-01-01",
    "year 1899": "1899-12-31",
    "year 2101": "2101-01-01",
    "word": "tomorrow",
    "number": 20240101,
    "list": ["2024-01-01"],
    "slashes": "2024/01/01",
    "sql": "2024-01-01'; DROP TABLE crm_lead; --",
}

BAD_DATETIMES = {
    **BAD_DATES,
    "hour 25": "2024-01-01T25:00:00",
    "first instant, east of utc": "0001-01-01T00:00:00+14:00",
    "last instant, west of utc": "9999-12-31T23:59:59-14:00",
    "year one in utc": "0001-01-01T00:00:00+00:00",
    "year one, local": "0001-01-01T00:00:00",
    "year 2101": "2101-01-01T00:00:00+08:00",
    "epoch seconds": 1_700_000_000,
}

BAD_IDS = {
    "unknown": 987_654,
    "ten to the thirty": 10**30,
    "minus one": -1,
    "zero": 0,
    "text": "abc",
    "nul": "1\x00",
    "float": 1.5,
    "list": [1],
}

# The few that break the most, for the fields whose kind another field already meets in full.
SHARP_TEXT = {name: REFUSED_TEXT[name] for name in ("nul", "lone surrogate", "right-to-left override")}
SHARP_DECIMALS = {"nan": "NaN", "ten to the thirty": 10**30, "minus one": -1}

WRONG_TYPES_FOR_TEXT = {"list": ["甲"], "object": {"甲": "乙"}, "boolean": True}


def hostile_text() -> st.SearchStrategy[str]:
    """Short texts mixing hostile fragments with arbitrary code points, surrogates and controls included."""
    fragments = st.sampled_from([*REFUSED_TEXT.values(), *ACCEPTED_TEXT.values()]).map(lambda t: t[:300])
    arbitrary = st.text(st.characters(exclude_categories=()), max_size=60)
    return st.lists(st.one_of(fragments, arbitrary), min_size=1, max_size=3).map("".join)
