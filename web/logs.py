"""Operator logs: the logging configuration, the WSGI access log and the refused-request line.

Every line goes to standard error (journald, docker and gunicorn collect it there) in one plain format. What
is logged never carries a password, a token, a case's details or an uploaded file's name: accounts appear
by username (an operator's own identifier, needed to follow a sign-in attack or an import); a name typed at
sign-in that matches no account is shown only as a keyed hash (:func:`unknown_account_label`), because it
is often a password typed into the wrong field.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import logging.config
import sys
import time

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Apache's combined format plus the time taken, for gunicorn's own access log (``serve``).
GUNICORN_ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
REFUSED = {400: "bad request", 401: "not signed in", 403: "forbidden", 413: "too large",
           429: "too many attempts"}

log = logging.getLogger("bando138.requests")
access_log = logging.getLogger("bando138.access")


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (as :data:`logging.lastResort` does), so a
    replaced stream (a test's capture, a daemoniser) never leaves the handler writing to a closed file."""

    def __init__(self, level=logging.NOTSET):
        logging.Handler.__init__(self, level)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def log_level(value) -> str:
    """``BANDO_LOG_LEVEL`` as a level name; anything else is refused naming the accepted values."""
    name = logging.getLevelName(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)
    name = name.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"BANDO_LOG_LEVEL must be one of {', '.join(LEVELS)}; got {value!r}")
    return name


def logging_config(level: str, app_logger: str) -> dict:
    """A :func:`logging.config.dictConfig` mapping: ours, Flask's app logger and waitress's at ``level`` on stderr.

    The root logger is left alone (libraries stay quiet and a host's own configuration is kept); our loggers
    still propagate, so a root handler added by the host (or pytest's ``caplog``) sees the same lines.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": LINE_FORMAT}},
        "handlers": {"stderr": {"()": CurrentStderrHandler, "formatter": "line"}},
        "loggers": {name: {"level": level, "handlers": ["stderr"], "propagate": True}
                    for name in ("bando138", app_logger, "waitress")},
    }


def configure_logging(level, app_logger: str) -> str:
    name = log_level(level)
    logging.config.dictConfig(logging_config(name, app_logger))
    return name


def unknown_account_label(typed: str, key: str | bytes) -> str:
    """A short keyed hash of a sign-in name that matches no account: repeated tries of one name can be
    followed in the log, and a password typed into the name field cannot be read or guessed from it."""
    key_bytes = key.encode() if isinstance(key, str) else key
    return "unknown account #" + hmac.new(key_bytes, typed.encode(), hashlib.sha256).hexdigest()[:12]


def actor() -> str:
    """Who made the current request: the username, ``(API token)`` added, or ``-`` when not signed in."""
    from flask import g
    from flask_login import current_user

    try:
        if current_user.is_authenticated:
            return current_user.username + (" (API token)" if g.get("token_auth") else "")
    except Exception:  # the user could not be loaded (e.g. no schema yet): the line is still written
        pass
    return "-"


def log_refused(response):
    """After every request: one warning line for a refused one (400, 401, 403, 413, 429).

    The line names the method, the path (without its query string), status, reason, endpoint and account —
    never the form or the error message, which may quote an uploaded row.
    """
    from flask import g, request

    status = response.status_code
    if status in REFUSED:
        log.warning("refused %s %s: %d %s (endpoint %s, by %s)", request.method, request.path, status,
                    g.get("refusal", REFUSED[status]), request.endpoint or "-", actor())
    return response


class AccessLog:
    """WSGI middleware writing one access-log line per request to ``bando138.access`` (for waitress, which
    has no access log of its own; gunicorn writes its own, see :data:`GUNICORN_ACCESS_FORMAT`).

    The line — Apache's combined format without the time (the log line has one) plus the time taken — is
    written when the server closes the response, so the bytes sent and the duration are the real ones.
    """

    def __init__(self, app, logger: logging.Logger = access_log):
        self.app = app
        self.logger = logger

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status = {}

        def recording_start_response(status_line, headers, exc_info=None):
            status["code"] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        body = self.app(environ, recording_start_response)
        return _LoggedBody(body, lambda sent: self._write(environ, status.get("code", "-"), sent, started))

    def _write(self, environ, status, sent, started):
        target = environ.get("PATH_INFO", "") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        self.logger.info('%s "%s %s %s" %s %s "%s" "%s" %dms', environ.get("REMOTE_ADDR", "-"),
                         environ.get("REQUEST_METHOD", "-"), target, environ.get("SERVER_PROTOCOL", "-"), status,
                         sent if sent else "-", environ.get("HTTP_REFERER", "-"), environ.get("HTTP_USER_AGENT", "-"),
                         round((time.perf_counter() - started) * 1000))


class _LoggedBody:
    """The response iterable, counting the bytes sent and reporting them once the server closes it."""

    def __init__(self, body, on_close):
        self.body, self.on_close, self.sent = body, on_close, 0

    def __iter__(self):
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.on_close(self.sent)
