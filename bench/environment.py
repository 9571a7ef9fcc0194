"""Where the benchmark runs: its own database, media folder and production-like settings.

`prepare()` must run before Django is set up. It never inherits DATABASE_URL from the
shell: the builder drops and recreates its database, so it only ever talks to one whose
name says it is a benchmark database.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
MEDIA_ROOT = DATA_DIR / "media"
PERMIT_HTML = DATA_DIR / "permit.html"
PERMIT_CSS = DATA_DIR / "permit.css"
RESULTS = ROOT / "bench" / "results.json"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/threshold_bench"
PROTECTED = {"threshold", "test_threshold", "postgres", "template0", "template1"}

# Settings of the server under test: production-like (DEBUG off, no debug toolbar, cached
# templates), plain HTTP on the loopback interface.
SERVER_ENV = {
    "SECRET_KEY": "bench-only",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_COOKIES": "0",
    # HTTPS ends in the TLS proxy in front (docs/deploying.md); the bench talks plain HTTP to
    # gunicorn, which would otherwise redirect every request (secure by default, issue 19).
    "SECURE_SSL_REDIRECT": "0",
    "LOG_LEVEL": "WARNING",
    "EMAIL_URL": "dummy://",
}


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    name = database_name(url)
    if name in PROTECTED or "bench" not in name:
        raise SystemExit(
            f"BENCH_DATABASE_URL names the database {name!r}: the benchmark drops and rebuilds "
            "its database, so its name must contain 'bench' (default threshold_bench)."
        )
    return url


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    """The same server's `postgres` database, for CREATE and DROP DATABASE."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def applications() -> int:
    raw = os.environ.get("BENCH_APPLICATIONS", "200000")
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"BENCH_APPLICATIONS={raw!r} is not a whole number.") from None
    if value < 20000:  # fewer leave too few inspections to start and close in a run
        raise SystemExit("BENCH_APPLICATIONS must be at least 20000.")
    return value


def search_scale() -> int | None:
    """BENCH_SEARCH_SCALE: the number of applications search is also measured at (e.g.
    1000000), on a database of its own; unset, none."""
    raw = os.environ.get("BENCH_SEARCH_SCALE", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"BENCH_SEARCH_SCALE={raw!r} is not a whole number.") from None


def search_scale_url(scale: int) -> str:
    """The search-at-scale database: the benchmark database's name + _search_<scale>."""
    url = database_url()
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database_name(url)}_search_{scale}"))


def prepare() -> dict[str, str]:
    """Point this process (and the server it starts) at the benchmark database and media."""
    MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    env = {
        **SERVER_ENV,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_PERMIT_HTML": str(PERMIT_HTML),
        "BENCH_PERMIT_CSS": str(PERMIT_CSS),
    }
    os.environ.update(env)
    return env
