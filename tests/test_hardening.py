"""Hardening: deployment checks, cookies, the Content-Security-Policy, login throttling,
session expiry and how uploads and documents are served."""

import datetime
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.middleware import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, client_for
from tests.factories import jpeg_upload, make_finding, make_inspection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "permits.example.ca",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "PUBLIC_BASE_URL": "https://permits.example.ca",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_while_permits_would_print_a_local_address():
    """Every permit prints PUBLIC_BASE_URL for good: an explicit local or plain http address
    is a mistake. (Unset, it is https:// and the first host of ALLOWED_HOSTS: see
    tests/test_production.py.)"""
    settings = {**PRODUCTION, "PUBLIC_BASE_URL": "http://127.0.0.1:8000"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **settings)
    assert result.returncode != 0
    assert "threshold.W001" in result.stdout + result.stderr
    assert "PUBLIC_BASE_URL" in result.stdout + result.stderr


def test_production_cookies_are_secure_and_http_only():
    code = (
        "import config.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_AGE)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **PRODUCTION},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.split() == ["True", "True", "True", "True", "43200"], result.stderr


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_STYLE = re.compile(r"<style|\sstyle=")


def test_every_page_has_a_strict_csp_and_no_inline_script_or_style(
    inspector, application_a, occupancy_type_a
):
    client = client_for(inspector)
    inspection = make_inspection(application_a, occupancy_type_a)
    client.post(reverse("inspections:visit_start", args=[inspection.code]))
    finding = make_finding(inspection.visits.get(), inspector)
    client.post(
        reverse("inspections:photos_add", args=[inspection.code]),
        {"photos": [jpeg_upload()], "description": "Wall"},
    )
    pages = [
        "/accounts/login/",
        reverse("permits:application_list"),
        application_a.get_absolute_url(),
        inspection.get_absolute_url(),
        reverse("inspections:finding_edit", args=[finding.code]),
    ]
    for path in pages:
        response = (Client() if "login" in path else client).get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_STYLE.search(html), path
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


def test_login_is_throttled_after_five_failures(inspector, clerk):
    client = Client()
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": "inspector", "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    fifth = client.post("/accounts/login/", {"username": "inspector", "password": "wrong"})
    assert fifth.status_code == 429
    # Even the right password is refused while locked out.
    locked = client.post("/accounts/login/", {"username": "inspector", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user on the same device is not locked out.
    other = client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    assert other.status_code == 302


def test_an_expired_session_sends_the_user_back_to_login(inspector):
    client = client_for(inspector)
    assert client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_photos_are_served_with_nosniff_and_a_safe_disposition(
    inspector, application_a, occupancy_type_a
):
    client = client_for(inspector)
    inspection = make_inspection(application_a, occupancy_type_a)
    client.post(reverse("inspections:visit_start", args=[inspection.code]))
    client.post(
        reverse("inspections:photos_add", args=[inspection.code]),
        {"photos": [jpeg_upload("evil.html")], "description": "Wall"},
    )
    photo = inspection.visits.get().photos.get()
    response = client.get(reverse("inspections:photo_image", args=[photo.code]))
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="photo-{photo.code}.jpg"'
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}
