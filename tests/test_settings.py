import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import email_settings

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these variables."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "TIME_ZONE"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG, s.TIME_ZONE)"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    result = load_settings()
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_settings_start_with_secret_key_and_debug_off_by_default():
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "America/Toronto"]


def test_settings_refuse_a_debug_value_that_is_not_a_boolean():
    result = load_settings(DEBUG="maybe", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_settings_refuse_an_unknown_time_zone():
    result = load_settings(DEBUG="1", TIME_ZONE="Mars/Olympus_Mons")
    assert result.returncode != 0
    assert "TIME_ZONE='Mars/Olympus_Mons' is not a known time zone" in result.stderr


def test_email_url_smtp_is_translated_to_django_settings():
    config = email_settings("smtp://mailer:s%40cret@mail.example.org:587?starttls=1")
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s@cret",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }


def test_email_url_with_unknown_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme 'carrier-pigeon'"):
        email_settings("carrier-pigeon://coop")


def test_every_page_requires_login_except_the_login_page(client, db):
    assert client.get("/accounts/login/").status_code == 200
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
