"""gunicorn's access log (gunicorn.conf.py's `logger_class`): the client address as ops.client_ip reads
it, not the proxy's, and the query string with secrets blanked (ops.redaction)."""

from django.conf import settings
from gunicorn.glogging import Logger

from ops.client_ip import client_address
from ops.redaction import redact_query

# Request headers (`{name}i`) and environ entries (`{name}e`) that are credentials: never available to
# an access-log format.
_SECRETS = (
    "{authorization}i",
    "{cookie}i",
    "{x-csrftoken}i",
    "{http_authorization}e",
    "{http_cookie}e",
    "{http_x_csrftoken}e",
)


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        query = redact_query(environ.get("QUERY_STRING", ""))
        path = environ.get("PATH_INFO", "")
        target = f"{path}?{query}" if query else path
        atoms["h"] = client_address(environ, settings.TRUSTED_PROXY_COUNT) or "-"
        atoms["q"] = query
        atoms["r"] = f"{environ['REQUEST_METHOD']} {target} {environ['SERVER_PROTOCOL']}"
        # The environ's copies of the URL, as the lines above show it.
        for name, value in (("{raw_uri}e", target), ("{request_uri}e", target), ("{query_string}e", query)):
            if name in atoms:
                atoms[name] = value
        for name in _SECRETS:
            if name in atoms:
                atoms[name] = "-"
        return atoms
