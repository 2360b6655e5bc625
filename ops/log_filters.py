"""A logging filter for the console handler: the request a record carries, told without its secrets.

Django's `django.request` logger passes the request itself along with every 4xx/5xx line; the JSON
formatter writes each such extra as text, and a request's text is its full URL, query included (a key
sent as `?api_key=` would be logged whole). This filter puts in its place the method, the redacted path
and the client address (ops.client_ip, the one the lockout and the throttles use).
"""

import logging

from ops.client_ip import client_ip
from ops.redaction import redact_path


class RedactRequest(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META"):
            meta = request.META
            record.request = (
                f"{meta.get('REQUEST_METHOD', '')} {redact_path(request.path, meta.get('QUERY_STRING', ''))}"
            )
            record.client_ip = client_ip(request)
        return True
