"""Issue 16, deliverable 1: a request larger than its kind allows is refused with 413 from its
Content-Length, before anything reads its body (a 200 MB upload used to be read in full
before the form refused it), and nothing is saved."""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse

from config.middleware import request_size_limit
from exchange.models import ImportRun
from inspections.models import Photo

MB = 1024 * 1024


class BodyNeverRead(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


def post(path: str, length: int):
    statuses = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "multipart/form-data; boundary=x",
        "CONTENT_LENGTH": str(length),
        "wsgi.input": BodyNeverRead(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    # As Django's test client does: a request's start and end would close the test's
    # connection, which is inside the test's transaction (PostgreSQL).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
        return statuses[0], b"".join(response).decode()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_a_200_mb_photo_upload_is_refused_with_413_before_its_body_is_read(
    application_a, occupancy_type_a
):
    path = reverse("inspections:photos_add", args=["anycode"])
    status, html = post(path, 200 * MB)
    assert status.startswith("413")
    assert "The upload is too large" in html
    assert "What was sent is 200 MB; at most 100 MB may be sent at once here." in html
    assert "Nothing was saved." in html
    assert not Photo.objects.exists()


@pytest.mark.django_db
def test_an_import_over_25_mb_is_refused_with_413_before_its_body_is_read():
    status, html = post(reverse("admin:permits_application_import"), 27 * MB)
    assert status.startswith("413")
    assert "What was sent is 27 MB; at most 26 MB may be sent at once here." in html
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_any_other_form_refuses_a_body_over_the_small_limit_before_reading_it():
    status, html = post(reverse("login"), 3 * MB)
    assert status.startswith("413")
    assert "at most 2.5 MB may be sent at once here" in html


def test_each_kind_of_request_has_its_own_limit(settings):
    photos = reverse("inspections:photos_add", args=["abc"])
    assert request_size_limit(photos) == settings.PHOTO_REQUEST_MAX_BYTES == 100 * MB
    settings.PHOTO_MAX_BYTES = 5 * MB
    assert request_size_limit(photos) == 51 * MB  # ten photos of 5 MB and the form's fields
    assert request_size_limit(reverse("admin:permits_application_import")) == 26 * MB
    assert request_size_limit(reverse("login")) == settings.REQUEST_MAX_BYTES == 2.5 * MB
    assert request_size_limit("/no/such/page") == settings.REQUEST_MAX_BYTES


@pytest.mark.django_db
def test_a_request_within_its_limit_goes_through(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "x"})
    assert response.status_code == 200  # the login form, with its error: not a 413
