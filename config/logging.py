"""Logs an operator can search: a request id on every record, JSON lines when asked
(LOG_FORMAT=json), and optional error reporting to Sentry (SENTRY_DSN).

The JSON formatter is ours (a few lines over the standard library) rather than
python-json-logger: the fields are fixed, and one more dependency would buy nothing here.
"""

import datetime
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.core.exceptions import ImproperlyConfigured

# The request being answered, for every record logged while answering it (the worker's
# records and start-up have none: "-").
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# An incoming X-Request-ID (set by nginx's $request_id or a load balancer) is kept when it is
# short and plain, so one id follows a request through the proxy's log and ours; anything
# else (a log-injection attempt, a megabyte) is replaced by a fresh one.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_logger = logging.getLogger("threshold.request")

# Fields of a request's log line, beside the standard ones.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (handlers' filter, so records of every
    logger get it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id; a request's line
    adds method, path, status and duration_ms; an exception adds its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdMiddleware:
    """First in MIDDLEWARE: gives the request its id (X-Request-ID in and out) and logs one
    line when it is answered, with its duration. The health check's lines are DEBUG: a load
    balancer asks every few seconds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            request_logger.log(
                logging.DEBUG if request.path == "/healthz" else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def logging_config(log_format: str, level: str) -> dict:
    """Django's LOGGING for LOG_FORMAT text (the default, unchanged) or json."""
    if log_format not in {"text", "json"}:
        raise ImproperlyConfigured(f"LOG_FORMAT={log_format!r} is not one of: text, json.")
    as_json = log_format == "json"
    handler = {"class": "logging.StreamHandler", "filters": ["request_id"]}
    if as_json:
        handler["formatter"] = "json"
    loggers = {
        # fontTools reports every font it subsets at INFO: noise in a server log.
        "fontTools": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # One line per request in JSON logs (gunicorn's access log may then be off); text
        # logs stay as they were.
        "threshold.request": {"level": "INFO" if as_json else "WARNING"},
    }
    if as_json:
        # runserver's own request lines would otherwise bypass the JSON handler.
        loggers["django.server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
        "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": loggers,
    }


def sentry_init(dsn: str, *, environment: str | None) -> None:
    """Error reports to Sentry, with no personal data (send_default_pii=False: no user,
    address, cookies or request body). Imported only when SENTRY_DSN is set, as the SDK is
    an optional extra."""
    try:
        import sentry_sdk
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: "
            "pip install 'threshold[sentry]' (or unset SENTRY_DSN)."
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
    )
