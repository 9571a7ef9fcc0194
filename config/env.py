"""Reading settings from environment variables, loudly.

A typo in a deployment's environment must stop the server at start-up with a message
naming the variable, never fall back silently to a default.
"""

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file NAME_FILE names (container and systemd secrets:
    the value never appears in the process's environment). The file's content is stripped of
    surrounding whitespace, as an editor's final newline is no part of a key. Both set is a
    mistake that must not be settled silently: which one would the operator expect to win?"""
    file_variable = f"{name}_FILE"
    path = os.environ.get(file_variable)
    if path is None:
        return os.environ.get(name, default)
    if name in os.environ:
        raise ImproperlyConfigured(
            f"Both {name} and {file_variable} are set: set only one of them "
            f"({file_variable} names a file holding the value)."
        )
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{file_variable}={path!r} cannot be read: {exc.strerror or exc}."
        ) from None


def public_base_url(explicit: str | None, allowed_hosts: list[str], *, https: bool) -> str:
    """PUBLIC_BASE_URL as set, else https://<the first real host of ALLOWED_HOSTS> when the
    site redirects to HTTPS (it can only be reached there), else the local development
    address (which `check --deploy` flags as threshold.W001)."""
    if explicit:
        return explicit.rstrip("/")
    if https:
        for host in allowed_hosts:
            # ".example.ca" and "*" are patterns, not an address a permit can print.
            if host and not host.startswith(".") and "*" not in host and host not in _LOCAL:
                return f"https://{host}"
    return "http://127.0.0.1:8000"


_LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def email_settings(url: str) -> dict:
    """Translate EMAIL_URL into Django's EMAIL_* settings.

    console:// (default), locmem://, dummy://, smtp://user:password@host:587 and
    smtps://… (implicit TLS); `?starttls=1` turns on STARTTLS for smtp://.
    """
    parts = urlsplit(url)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not supported: use one of "
            f"{', '.join(sorted(backends))}."
        )
    config: dict = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme in {"smtp", "smtps"}:
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL names no host, e.g. smtp://user:pw@host:587.")
        query = parse_qs(parts.query)
        config.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtps" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps",
            EMAIL_USE_TLS=query.get("starttls", ["0"])[0].lower() in _TRUE,
        )
    return config
