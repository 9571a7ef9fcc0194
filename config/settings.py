"""Threshold's one settings module, driven by environment variables (see README)."""

import datetime
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    email_settings,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    public_base_url,
)
from config.logging import logging_config, sentry_init
from config.storage import default_storage_backend

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# Each secret can also come from a file: SECRET_KEY_FILE=/run/secrets/secret_key (config.env).
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-development-only-never-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    # Second factor (TOTP authenticator apps) and its recovery codes (static tokens).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Background jobs: the queue is a table of the same database (docs/architecture.md).
    "django_tasks",
    "django_tasks_db",
    # Threshold's apps, lowest layer first (docs/architecture.md): each imports only those
    # listed before it, a contract `make lint` enforces.
    "core",
    "permits",
    "inspections",
    "occupancy",
    # Beside occupancy (neither imports the other): inspection requests and dispatch.
    "scheduling",
    "exchange",
    "demo",
]

MIDDLEWARE = [
    # First: a body larger than its kind allows is refused before anything reads it.
    "config.middleware.RequestSizeLimitMiddleware",
    # Gives each request its id (X-Request-ID) and logs it once answered.
    "config.logging.RequestIdMiddleware",
    # /healthz for load balancers, before the HTTPS redirect and the host check (config.health).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files keep their long cache; pages and documents are no-store.
    "config.middleware.NoStoreMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the browser's (Accept-Language) or the cookie the header's switch sets,
    # then the signed-in user's own choice, which the session carries from the login.
    "django.middleware.locale.LocaleMiddleware",
    "core.language.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified once a second-factor code was given in this session...
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # ...and sends a user who owes one to the code (or setup) page before any other page.
    "core.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.who_am_i",
                "core.context_processors.language_switch",
                "scheduling.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = env_secret("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL could not be parsed: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite waits for a writer instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django reads .iterator() through a server-side cursor (DECLARE … WITH HOLD, FETCH,
    # CLOSE): every choice list of a form (ModelChoiceField iterates that way) paid those
    # round trips for a few dozen rows, on every page that shows a form. Server-side cursors
    # also fail behind a transaction-pooling PgBouncer. The price: .iterator() receives a
    # whole table in one result, so a command walking one reads it in keyset batches instead
    # (verify_records: occupancy.records._in_batches).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Seconds a new connection may take: a database host that drops packets must not hold a
    # request (or /healthz) for the system's TCP timeout of minutes. A connect_timeout in
    # DATABASE_URL's query string wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
    )
    # Prepared statements: PostgreSQL planned every query of every page again (the Work
    # view's joins cost more to plan than to run). With server-side binding, psycopg
    # prepares a statement the fifth time a connection runs it, and the kept connection
    # (conn_max_age) reuses it on later requests: half the database's CPU on the Work view,
    # two thirds on the inspection view (docs/performance.md, "Fifth pass"). Django turns
    # them off by default for transaction-pooling PgBouncer before 1.21; such a deployment
    # sets DATABASE_PREPARED_STATEMENTS=0 (docs/deploying.md). A statement prepared before a
    # migration changed a column it returns is refused by PostgreSQL; the connection heals
    # itself (core.prepared_statements).
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
# Finish and Close on PostgreSQL (occupancy.services, SET LOCAL in its transaction): how long
# a close waits for a lock (the permit number, held by another close of the municipality for
# one render and its commit) before it says "Another close is in progress", and how long one
# of its statements may run, in milliseconds.
CLOSE_LOCK_TIMEOUT_MS = env_int("CLOSE_LOCK_TIMEOUT_MS", 5_000)
CLOSE_STATEMENT_TIMEOUT_MS = env_int("CLOSE_STATEMENT_TIMEOUT_MS", 10_000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A cache every process shares (gunicorn's workers, the demo's runserver): the password reset
# throttle counts in it. Its table is made by core's migration 0003 (createcachetable).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "threshold_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses a username+address pair after too many (ASVS 6.3).
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, loading the memberships and permissions with the user (one query).
    "core.backends.MembershipBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The lockout's "address" is the client's: core.accounts.client_address reads the trusted
# proxy's X-Forwarded-For only with BEHIND_TLS_PROXY (else every user would share the
# proxy's address, and one attacker could lock everyone out); without it the header is
# ignored, since any client can send it.
AXES_CLIENT_IP_CALLABLE = "core.accounts.client_address"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
# Password reset e-mails: at most this many requests an hour from one client address and for
# one e-mail address; beyond, the page answers as usual but sends nothing (and logs it).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("PASSWORD_RESET_LIMIT_PER_ADDRESS", 20)
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env_int("PASSWORD_RESET_LIMIT_PER_ACCOUNT", 3)

# The site's public address, printed (with a QR code) on every issued permit and notice to its
# verification page: /v/<token>. A permit keeps the address it was issued with. Unset in
# production (HTTPS redirect on), it is https:// and the first real host of ALLOWED_HOSTS.
PUBLIC_BASE_URL = public_base_url(
    env_str("PUBLIC_BASE_URL"),
    ALLOWED_HOSTS,
    https=not DEBUG and env_bool("SECURE_SSL_REDIRECT", True),
)
# Lookups of the public verification page a minute from one client address; beyond, 429.
VERIFICATION_LOOKUPS_PER_MINUTE = env_int("VERIFICATION_LOOKUPS_PER_MINUTE", 60)
# The Fernet key (32 url-safe base64 bytes: `python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"`) with which municipalities' signing certificates
# and their passwords are encrypted in the database (core.signing). Without it a certificate
# cannot be stored, except with DEBUG, where one is derived from SECRET_KEY (with a warning).
# Keep it apart from the database's backups: losing it means uploading the certificates again.
SIGNING_KEY = env_secret("SIGNING_KEY")

# Second factor: wrong codes wait 1, 2, 4, 8 … seconds (django-otp's throttling, on).
OTP_TOTP_ISSUER = "Threshold"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
LOGIN_URL = "login"
# Inspectors land on My today, everyone else on the applications (scheduling.views.landing).
LOGIN_REDIRECT_URL = "scheduling:landing"
LOGOUT_REDIRECT_URL = "login"

# English and Canadian French (docs/french.md, docs/translation.md). Each user's choice
# (core.Profile, the header's switch) wins over the browser's Accept-Language; the French
# catalogue is locale/fr_CA, compiled by make install (manage.py translations compile).
LANGUAGE_CODE = "en-ca"
LANGUAGES = [("en-ca", "English"), ("fr-ca", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "threshold_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = env_str("TIME_ZONE", "America/Toronto")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
try:
    # Bootstrap comes from its PyPI package, never from a CDN or a copy in the repo.
    import xstatic.pkg.bootstrap as xstatic_bootstrap

    STATICFILES_DIRS.append(("vendor/bootstrap", xstatic_bootstrap.BASE_DIR))
except ImportError:  # pragma: no cover - install is broken; say so clearly
    raise ImproperlyConfigured("xstatic-bootstrap is not installed: run make install.") from None
WHITENOISE_USE_FINDERS = True
# Static files are served from the finders until collectstatic fills STATIC_ROOT; WhiteNoise
# would warn about the missing folder in every process.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Uploaded photos and issued PDFs are served only through views that check access.
MEDIA_URL = "/media-not-served-directly/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# STORAGE_URL=s3://bucket?… (or AWS_STORAGE_BUCKET_NAME) keeps them in a private bucket.
STORAGES["default"] = default_storage_backend(env_secret, STORAGES["default"])

# Photos from phones are large; Django streams anything above 2.5 MB to a temporary file.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 20 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 50_000_000)
# Pixels one upload request may decode in all (ten 12-megapixel phone photos fit), checked
# from the files' headers before any is decoded.
PHOTO_MAX_PIXELS_PER_REQUEST = env_int("PHOTO_MAX_PIXELS_PER_REQUEST", 150_000_000)
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Request bodies (config.middleware.RequestSizeLimitMiddleware refuses a larger one with 413
# from its Content-Length, before reading it): the photo upload up to PHOTO_MAX_BYTES for
# each of PHOTOS_PER_REQUEST photos but PHOTO_REQUEST_MAX_BYTES in all, the admin's CSV
# import IMPORT_MAX_BYTES, anything else REQUEST_MAX_BYTES. The import's request only stores
# the file (a job imports it), so its 25 MB fit a city's whole history.
PHOTOS_PER_REQUEST = 10
PHOTO_REQUEST_MAX_BYTES = env_int("PHOTO_REQUEST_MAX_BYTES", 100 * 1024 * 1024)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 25 * 1024 * 1024)
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 2_621_440)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

globals().update(email_settings(env_secret("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "threshold@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds an SMTP server may take to answer: mail is sent by the job worker, never by a
# request, but a server that accepts and never answers must not hold a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# Minutes after which a mail attempt a job claimed and never finished is taken as cut off
# (its worker was killed: OOM, deploy, reboot): Resend is then offered and recover_deliveries
# queues it again. So is a queued mail with no attempt under way and no job that will run it
# this long after it was last queued (its job lost; core.models.DeliveryQuerySet.stranded).
# A live attempt reads its documents and talks SMTP, each step bounded by EMAIL_TIMEOUT, so
# this must stay well above it, or a slow attempt would be sent twice.
DELIVERY_ATTEMPT_STALE_MINUTES = env_int("DELIVERY_ATTEMPT_STALE_MINUTES", 15)
if DELIVERY_ATTEMPT_STALE_MINUTES * 60 < 10 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        f"DELIVERY_ATTEMPT_STALE_MINUTES={DELIVERY_ATTEMPT_STALE_MINUTES} is too short for "
        f"EMAIL_TIMEOUT={EMAIL_TIMEOUT}: it must be at least 10 × EMAIL_TIMEOUT."
    )

# Background jobs (core.jobs): a table of the database, run by `manage.py db_worker`
# (`make run` starts one). Tests run each job at once, when it is enqueued.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Finished jobs (successful or failed) are kept this many days, then deleted by
# `manage.py prune_job_results` (nightly, threshold-verify): a failed job's traceback stays
# long enough to be investigated, and the job table does not grow for ever.
JOB_RESULTS_KEEP_DAYS = env_int("JOB_RESULTS_KEEP_DAYS", 30)
if JOB_RESULTS_KEEP_DAYS < 1:
    raise ImproperlyConfigured(f"JOB_RESULTS_KEEP_DAYS={JOB_RESULTS_KEEP_DAYS} must be at least 1.")

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Secure by default: plain HTTP is redirected to HTTPS, and browsers are told (HSTS, a
    # year, subdomains too) never to try plain HTTP again. Each can be turned off (=0), e.g.
    # while testing a new host; behind a TLS proxy set BEHIND_TLS_PROXY=1 instead, or every
    # request would look like plain HTTP and be redirected forever. The preload directive
    # only consents to the browsers' preload list: nothing is listed until someone submits
    # the domain at hstspreload.org.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None

# LOG_FORMAT=json: one JSON object a line (config.logging), each with its request's id.
LOG_FORMAT = env_str("LOG_FORMAT", "text").strip().lower()
LOGGING = logging_config(LOG_FORMAT, env_str("LOG_LEVEL", "INFO"))
# /healthz logs a warning when the oldest job due has waited longer than this (config.health).
HEALTH_QUEUE_WARN_MINUTES = env_int("HEALTH_QUEUE_WARN_MINUTES", 15)
# Milliseconds the database and queue checks of /healthz may run on PostgreSQL (SET LOCAL
# statement_timeout): a database that takes the connection and never answers gives 503 in
# time instead of hanging the worker the balancer's probe holds.
HEALTH_DATABASE_TIMEOUT_MS = env_int("HEALTH_DATABASE_TIMEOUT_MS", 2_000)
# Error reports to Sentry (or a compatible service), without personal data; needs the
# optional extra: pip install 'threshold[sentry]'.
SENTRY_DSN = env_secret("SENTRY_DSN")
if SENTRY_DSN:
    sentry_init(SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT"))
