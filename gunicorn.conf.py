"""gunicorn settings for the portal (gunicorn reads ``./gunicorn.conf.py`` when started from the
project root; elsewhere pass ``-c /path/to/gunicorn.conf.py``).

Command-line options win over what is set here, so ``-w`` and ``-b`` stay the operator's.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_banner(self) -> list[str]:
    """gunicorn's own headers minus ``Server:``: the portal does not announce its app server."""
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_banner

#: Requests over this many seconds (a long bundle is built by the worker, not here) are killed.
timeout = 120
