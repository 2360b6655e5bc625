"""What a log line may say of a request: its path and query with secrets blanked, and the client address.

An agency that sends its key in the query string (`?api_key=...`, which the API does not read) still
must not find it in the logs; neither may a password or token put in a URL by mistake.
"""

import re
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
# A parameter whose name says it holds a secret.
_SECRET_NAME = re.compile(r"key|token|secret|passw|pwd|auth|signature|session|csrf", re.IGNORECASE)
# A value shaped like an agency API key (djangorestframework-api-key: `prefix.secret`), whatever its name.
_KEY_VALUE = re.compile(r"^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$")


def redact_query(query: str) -> str:
    """`query` (a URL's query string) with the value of every secret-looking parameter blanked."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [
            (name, REDACTED if _SECRET_NAME.search(name) or _KEY_VALUE.match(value) else value)
            for name, value in pairs
        ],
        safe="[]",
    )


def redact_path(path: str, query: str) -> str:
    """`path?query` as a log line may show it."""
    shown = redact_query(query)
    return f"{path}?{shown}" if shown else path
