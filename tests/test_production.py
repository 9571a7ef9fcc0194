"""Production (issue 19): secure by default with three variables, secrets from files,
no-store and Permissions-Policy headers, /healthz, JSON logs with request ids, Sentry."""

import ast
import contextlib
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from django.test import Client, override_settings

from config import health
from config.env import env_secret, public_base_url
from config.logging import JsonFormatter, RequestIdFilter, sentry_init
from config.middleware import PERMISSIONS_POLICY
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parent.parent
THREE_VARIABLES = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "permits.example.ca",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/threshold_secure",
}
# Everything a developer's shell or the test run may have set that production would not.
UNSET = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "LOG_FORMAT",
    "SENTRY_DSN",
    "BEHIND_TLS_PROXY",
    "DATABASE_PREPARED_STATEMENTS",
}


def run(args: list[str], **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in UNSET and not k.startswith("SECURE_") and not k.endswith("_FILE")
    }
    clean.update(env)
    return subprocess.run(
        args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def settings_of(*names: str, **env) -> list[str]:
    code = f"import config.settings as s; print(*[getattr(s, n) for n in {names!r}], sep='|')"
    result = run([sys.executable, "-c", code], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


# Secure by default ---------------------------------------------------------------------


def test_check_deploy_is_clean_with_only_the_three_variables():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **THREE_VARIABLES,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_with_debug_off_https_redirect_and_a_year_of_hsts_are_on_by_default():
    assert settings_of(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "PUBLIC_BASE_URL",
        **THREE_VARIABLES,
    ) == ["True", "31536000", "True", "True", "True", "https://permits.example.ca"]


def test_variables_turn_the_redirect_and_hsts_off():
    values = settings_of(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "PUBLIC_BASE_URL",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        **THREE_VARIABLES,
    )
    # Without the redirect the site may be plain HTTP: no https address is guessed.
    assert values == ["False", "0", "http://127.0.0.1:8000"]


def test_check_deploy_still_warns_for_a_plain_http_public_base_url():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        PUBLIC_BASE_URL="http://permits.example.ca",
        **THREE_VARIABLES,
    )
    assert result.returncode != 0
    assert "threshold.W001" in result.stdout + result.stderr


def test_public_base_url_is_derived_from_the_first_real_allowed_host():
    hosts = [".example.ca", "*", "localhost", "permits.example.ca", "other.example.ca"]
    assert public_base_url(None, hosts, https=True) == "https://permits.example.ca"
    assert public_base_url("", hosts, https=True) == "https://permits.example.ca"
    assert public_base_url("https://p.example.ca/", hosts, https=True) == "https://p.example.ca"
    assert public_base_url(None, hosts, https=False) == "http://127.0.0.1:8000"
    assert public_base_url(None, ["*", "localhost"], https=True) == "http://127.0.0.1:8000"


HSTS_ON = dict(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
)


@override_settings(**HSTS_ON)
def test_plain_http_is_redirected_and_https_answers_with_hsts(db):
    plain = Client().get("/accounts/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    secure = Client().get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@override_settings(**HSTS_ON, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_behind_a_tls_proxy_its_forwarded_https_is_not_redirected(db):
    response = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response


def test_pages_are_no_store_with_a_permissions_policy(inspector):
    response = client_for(inspector).get("/", follow=True)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "camera=(self)" in PERMISSIONS_POLICY
    assert "geolocation=()" in PERMISSIONS_POLICY
    assert "microphone=()" in PERMISSIONS_POLICY


def test_a_view_that_chose_its_own_no_cache_header_keeps_it(db):
    """The login page is Django's never_cache: stricter still, left as it is."""
    cache_control = Client().get("/accounts/login/")["Cache-Control"]
    assert "no-store" in cache_control.split(", ")
    assert "private" in cache_control.split(", ")


def test_static_files_keep_whitenoise_cache_headers(db):
    response = Client().get("/static/css/threshold.css")
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "public" in response["Cache-Control"]


# Secrets from files --------------------------------------------------------------------


def test_a_secret_is_read_from_the_file_its_file_variable_names(tmp_path, monkeypatch):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("s3cret-from-a-file\n")
    monkeypatch.delenv("SIGNING_KEY", raising=False)
    monkeypatch.setenv("SIGNING_KEY_FILE", str(secret_file))
    assert env_secret("SIGNING_KEY") == "s3cret-from-a-file"


def test_a_secret_set_both_ways_is_refused(tmp_path, monkeypatch):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("one")
    monkeypatch.setenv("SIGNING_KEY", "two")
    monkeypatch.setenv("SIGNING_KEY_FILE", str(secret_file))
    with pytest.raises(ImproperlyConfigured, match="Both SIGNING_KEY and SIGNING_KEY_FILE"):
        env_secret("SIGNING_KEY")


def test_a_missing_secret_file_is_refused_with_its_name(tmp_path, monkeypatch):
    monkeypatch.delenv("SIGNING_KEY", raising=False)
    monkeypatch.setenv("SIGNING_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="SIGNING_KEY_FILE=.*absent.* cannot be read"):
        env_secret("SIGNING_KEY")


def test_settings_take_secret_key_and_database_url_from_files(tmp_path):
    (tmp_path / "key").write_text("k" * 50 + "\n")
    (tmp_path / "db").write_text("postgres://app:pw@db.internal:5432/threshold\n")
    values = settings_of(
        "SECRET_KEY",
        "DATABASE_URL",
        SECRET_KEY_FILE=str(tmp_path / "key"),
        DATABASE_URL_FILE=str(tmp_path / "db"),
        ALLOWED_HOSTS="permits.example.ca",
    )
    assert values == ["k" * 50, "postgres://app:pw@db.internal:5432/threshold"]
    both = run(
        [sys.executable, "-c", "import config.settings"],
        SECRET_KEY_FILE=str(tmp_path / "key"),
        **THREE_VARIABLES,
    )
    assert both.returncode != 0
    assert "Both SECRET_KEY and SECRET_KEY_FILE are set" in both.stderr


# /healthz ------------------------------------------------------------------------------


def test_healthz_answers_ok_without_login(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Cache-Control"] == "no-store"


@override_settings(**HSTS_ON, ALLOWED_HOSTS=["permits.example.ca"])
def test_healthz_answers_a_load_balancer_over_http_at_the_server_address(db):
    """No HTTPS redirect and no host check: the balancer asks each server by its address."""
    response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_healthz_is_503_without_detail_when_the_database_fails(db, monkeypatch, caplog):
    """In-process; the gunicorn test below does it with a real unreachable database."""
    def refused():
        raise OperationalError('connection to server at "10.0.0.5" failed: refused')

    with caplog.at_level(logging.ERROR, logger="threshold.health"), monkeypatch.context() as m:
        m.setattr(connection, "cursor", refused)
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable"
    assert "Health check failed: database" in caplog.text
    assert "10.0.0.5" in caplog.text  # in the log, not in the answer


def test_healthz_is_503_when_storage_refuses_writes(db, monkeypatch):
    def full(name, content, max_length=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(health.default_storage, "save", full)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable"


DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@override_settings(TASKS=DATABASE_QUEUE)
def test_healthz_is_503_when_the_job_queue_table_is_missing(db, caplog):
    from django_tasks_db.models import DBTaskResult

    table = DBTaskResult._meta.db_table
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    with caplog.at_level(logging.ERROR, logger="threshold.health"):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable"
    assert "Health check failed: queue" in caplog.text


@override_settings(TASKS=DATABASE_QUEUE, HEALTH_QUEUE_WARN_MINUTES=15)
def test_healthz_warns_of_an_old_job_but_stays_healthy(db, caplog):
    import datetime

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from core.tasks import delivery_send

    delivery_send.using(backend="default").enqueue(0)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(minutes=40))
    with caplog.at_level(logging.WARNING, logger="threshold.health"):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert "oldest job due has waited 40 minutes" in caplog.text


ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"
)


@pytest.mark.postgres
@ON_POSTGRESQL
@override_settings(HEALTH_DATABASE_TIMEOUT_MS=200)
def test_healthz_is_503_within_the_bound_when_the_database_does_not_answer(db, monkeypatch, caplog):
    """A database that takes the query and never answers: the check gives up after
    HEALTH_DATABASE_TIMEOUT_MS instead of holding the worker the balancer's probe waits on."""
    monkeypatch.setattr(health, "DATABASE_CHECK_SQL", "SELECT 1 FROM pg_sleep(30)")
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="threshold.health"):
        response = Client().get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.content == b"unavailable"
    assert elapsed < 5, f"/healthz took {elapsed:.1f} s"
    assert "Health check failed: database" in caplog.text
    assert "statement timeout" in caplog.text
    with connection.cursor() as cursor:  # the bound ended with the check's transaction
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
@ON_POSTGRESQL
@override_settings(TASKS=DATABASE_QUEUE, HEALTH_DATABASE_TIMEOUT_MS=200)
def test_healthz_is_503_within_the_bound_when_the_queue_table_does_not_answer(db, caplog):
    """Another session holds the queue's table (as a stuck migration or VACUUM FULL would):
    the queue check waits no longer than HEALTH_DATABASE_TIMEOUT_MS."""
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            # Were the check unbounded, the server would end this session after 10 s: the
            # test fails on its time instead of hanging.
            cursor.execute("SET idle_in_transaction_session_timeout = '10s'")
            cursor.execute(f"LOCK TABLE {DBTaskResult._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="threshold.health"):
            response = Client().get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        with contextlib.suppress(Exception):  # already ended by the server's timeout
            other.rollback()
        other.close()
    assert response.status_code == 503
    assert elapsed < 5, f"/healthz took {elapsed:.1f} s"
    assert "Health check failed: queue" in caplog.text
    assert "Health check failed: database" not in caplog.text
    assert "statement timeout" in caplog.text


def database_options(**env) -> dict:
    code = "import config.settings as s; print(s.DATABASES['default']['OPTIONS'])"
    result = run([sys.executable, "-c", code], **THREE_VARIABLES | env)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip())


def connect_timeout(**env):
    return database_options(**env)["connect_timeout"]


def test_a_new_database_connection_is_bounded_on_postgresql():
    assert connect_timeout() == 5
    assert connect_timeout(DATABASE_CONNECT_TIMEOUT="3") == 3
    url = THREE_VARIABLES["DATABASE_URL"] + "?connect_timeout=9"
    assert str(connect_timeout(DATABASE_URL=url)) == "9"  # the URL's own wins


def test_postgresql_statements_are_prepared_unless_the_deployment_turns_them_off():
    """Prepared statements are on by default; a transaction-pooling PgBouncer before 1.21
    cannot carry them, so DATABASE_PREPARED_STATEMENTS=0 turns them off (docs/deploying.md)."""
    options = database_options()
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    options = database_options(DATABASE_PREPARED_STATEMENTS="0")
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options  # Django's default: None, never prepared


@pytest.mark.postgres
@ON_POSTGRESQL
def test_a_query_run_again_on_a_kept_connection_is_prepared_once_and_reused(db):
    """What the setting is for: the fifth run of the same statement on a connection is
    prepared, and later requests on that connection run it without planning it again."""
    from permits.models import Application

    def run_lookup():
        list(Application.objects.filter(number="BP-NONE-0").values_list("pk"))

    def prepared() -> list[tuple[str, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ['%FROM "permits_application" WHERE "permits_application"."number" = $1%'],
            )
            return cursor.fetchall()

    for _ in range(4):
        run_lookup()
    assert prepared() == []  # four runs: not yet
    for _ in range(4):
        run_lookup()
    statements = prepared()
    assert len(statements) == 1, statements  # prepared once, not once per run
    assert statements[0][1] >= 3  # and executed from the prepared statement since


def test_a_stale_mail_attempt_bound_shorter_than_ten_mail_timeouts_stops_the_server():
    """A live attempt taken for a dead one would be sent twice."""
    result = run(
        [sys.executable, "-c", "import config.settings"],
        **THREE_VARIABLES, EMAIL_TIMEOUT="60", DELIVERY_ATTEMPT_STALE_MINUTES="5",
    )  # fmt: skip
    assert result.returncode != 0
    assert "DELIVERY_ATTEMPT_STALE_MINUTES=5 is too short for EMAIL_TIMEOUT=60" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_of_a_gunicorn_server_with_a_bad_database_url_is_503():
    """The acceptance's "database stopped": a production server whose DATABASE_URL points
    at a port where no PostgreSQL listens."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in UNSET and not k.startswith("SECURE_") and not k.endswith("_FILE")
    }
    env.update(THREE_VARIABLES, DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
            except urllib.error.HTTPError as answer:
                status, body = answer.code, answer.read()
                break
            except OSError:  # not listening yet
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)  # the test waits only for the start: ask often
            else:
                pytest.fail("/healthz answered 200 with no database")
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert status == 503
    assert body == b"unavailable"
    assert "Health check failed: database" in log.decode()


# Logs ----------------------------------------------------------------------------------


@pytest.fixture
def json_request_log():
    """The request logger writing JSON lines into a list, as LOG_FORMAT=json configures it."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("threshold.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_request_logs_one_json_line_with_its_request_id(db, json_request_log):
    response = Client().get("/accounts/login/", headers={"X-Request-ID": "lb-7f3a.42"})
    assert response["X-Request-ID"] == "lb-7f3a.42"
    (line,) = json_request_log
    entry = json.loads(line)
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["logger"] == "threshold.request"
    assert entry["level"] == "INFO"
    assert entry["message"] == "GET /accounts/login/ 200"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/accounts/login/", 200)
    assert entry["duration_ms"] >= 0
    assert entry["time"].endswith("+00:00")


@pytest.mark.parametrize("incoming", ["", "a b", 'x"}\n{"level":"CRITICAL', "x" * 129])
def test_an_unsafe_incoming_request_id_is_replaced(db, json_request_log, incoming):
    response = Client().get("/accounts/login/", headers={"X-Request-ID": incoming})
    generated = response["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32 and generated.isalnum()
    assert json.loads(json_request_log[0])["request_id"] == generated


def test_log_format_json_writes_exceptions_with_their_traceback():
    code = (
        "import logging, logging.config, config.settings as s\n"
        "logging.config.dictConfig(s.LOGGING)\n"
        "logging.getLogger('threshold.test').warning('plain %s', 'words')\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n"
        "    logging.getLogger('threshold.test').exception('it broke')\n"
    )
    result = run([sys.executable, "-c", code], DEBUG="1", LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [(e["level"], e["message"], e["request_id"]) for e in lines] == [
        ("WARNING", "plain words", "-"),
        ("ERROR", "it broke", "-"),
    ]
    assert "ZeroDivisionError: division by zero" in lines[1]["traceback"]


def test_an_unknown_log_format_is_refused():
    result = run([sys.executable, "-c", "import config.settings"], DEBUG="1", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not one of: text, json" in result.stderr


# Error reporting -----------------------------------------------------------------------


def test_sentry_is_initialised_with_django_and_without_personal_data(monkeypatch):
    calls = []
    sdk = types.ModuleType("sentry_sdk")
    sdk.init = lambda **options: calls.append(options)
    django_integration = types.ModuleType("sentry_sdk.integrations.django")
    django_integration.DjangoIntegration = type("DjangoIntegration", (), {})
    monkeypatch.setitem(sys.modules, "sentry_sdk", sdk)
    monkeypatch.setitem(sys.modules, "sentry_sdk.integrations", types.ModuleType("i"))
    monkeypatch.setitem(sys.modules, "sentry_sdk.integrations.django", django_integration)
    sentry_init("https://key@sentry.example.ca/3", environment="staging")
    (options,) = calls
    assert options["dsn"] == "https://key@sentry.example.ca/3"
    assert options["environment"] == "staging"
    assert options["send_default_pii"] is False
    assert [type(i).__name__ for i in options["integrations"]] == ["DjangoIntegration"]


def test_sentry_dsn_without_the_sdk_installed_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)
    with pytest.raises(ImproperlyConfigured, match=r"pip install 'threshold\[sentry\]'"):
        sentry_init("https://key@sentry.example.ca/3", environment=None)
