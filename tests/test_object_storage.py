"""Photos and issued documents in an S3-compatible bucket (issue 19, deliverable 2), against
moto's S3 server on 127.0.0.1 started by the suite: a permit issued by the real close is
stored in the bucket, downloaded through the app's access checks (never a link to the
bucket), verified by verify_records, caught when changed in the bucket, and a write a crash
interrupted is finished by recover_documents, all from the bucket."""

import hashlib
import os
import socket
import uuid

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

import core.files
from config.env import env_secret
from config.storage import S3_BACKEND, default_storage_backend
from demo import builders
from inspections.models import Photo, Visit
from occupancy.models import OccupancyPermit
from occupancy.services import occupancy_permit_revoke
from tests.conftest import client_for
from tests.factories import jpeg_upload, make_inspection

REGION = "ca-central-1"
LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
TODAY = timezone.localdate()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server, one for the session, on 127.0.0.1 only."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A new private bucket for the test, made the default storage the way a deployment
    does it: STORAGE_URL and the keys in the environment, read by config.storage."""
    name = f"threshold-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("STORAGE_URL", f"s3://{name}?endpoint_url={s3_endpoint}&region={REGION}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy set for the machine is not asked
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="test-access-key",
        aws_secret_access_key="test-secret-key",
    )
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    # Django's setting_changed handler resets default_storage; the FileFields hold that
    # lazy object, so they write to the bucket from now on.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_backend(os.environ.get, LOCAL),
    }
    assert isinstance(default_storage, S3Storage)
    client.bucket_name = name
    return client


def keys(bucket) -> list[str]:
    listing = bucket.list_objects_v2(Bucket=bucket.bucket_name)
    return sorted(entry["Key"] for entry in listing.get("Contents", ()))


def object_bytes(bucket, key: str) -> bytes:
    return bucket.get_object(Bucket=bucket.bucket_name, Key=key)["Body"].read()


def downloaded(response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def open_visit(occupancy, inspector):
    return builders.visit(inspection=occupancy, inspector=inspector)


def close_with_a_grant(client, inspection, template):
    """Finish (the result) and Yes, close the inspection, as the inspector does."""
    client.post(
        reverse("occupancy:visit_result", args=[inspection.code]),
        {
            "action": "finish",
            "visit_type": "on_site",
            "result": "granted_full",
            "failure_reason": "",
            "template": template.pk,
            "granted_on": TODAY.isoformat(),
            "description": "Single detached dwelling.",
            "portion_of_building": "",
            "expires_on": "",
        },
    )
    page = client.get(reverse("occupancy:visit_confirm", args=[inspection.code]))
    return client.post(
        reverse("occupancy:visit_close", args=[inspection.code]),
        {"draft_fingerprint": page.context["draft_fingerprint"]},
    )


def test_a_permit_is_issued_downloaded_and_verified_from_the_bucket(
    bucket, inspector, inspector_b, occupancy, open_visit, general_template, tmp_path, capsys
):
    client = client_for(inspector)
    client.post(
        reverse("inspections:photos_add", args=[occupancy.code]),
        {"photos": [jpeg_upload("wall.jpg")], "description": "North wall"},
    )
    response = close_with_a_grant(client, occupancy, general_template)
    assert response.status_code == 302
    permit = OccupancyPermit.objects.get()
    visit = Visit.objects.get(pk=open_visit.pk)
    photo = Photo.objects.get()
    # Everything is in the bucket under its final name; nothing pending, nothing local.
    assert keys(bucket) == sorted(
        [permit.pdf.name, visit.report_pdf.name, photo.image.name, photo.thumbnail.name]
    )
    assert not (tmp_path / "media").exists()

    permit_url = reverse("occupancy:permit_pdf", args=["alpha", permit.number])
    data = downloaded(client.get(permit_url))
    assert data == object_bytes(bucket, permit.pdf.name)
    assert hashlib.sha256(data).hexdigest() == permit.pdf_sha256
    report_url = reverse("inspections:visit_report", args=[occupancy.code, visit.sequence])
    data = downloaded(client.get(report_url))
    assert data == object_bytes(bucket, visit.report_pdf.name)
    assert hashlib.sha256(data).hexdigest() == visit.report_sha256
    photo_url = reverse("inspections:photo_image", args=[photo.code])
    assert downloaded(client.get(photo_url)) == object_bytes(bucket, photo.image.name)
    # The access checks still decide: another municipality's inspector gets nothing, and no
    # answer points at the bucket.
    for url in (permit_url, report_url, photo_url):
        refused = client_for(inspector_b).get(url)
        assert refused.status_code == 404
        assert "Location" not in refused

    call_command("verify_records")
    assert "All 2 documents verified;" in capsys.readouterr().out

    # Changed in the bucket (by anyone holding the keys): verify_records says so.
    bucket.put_object(Bucket=bucket.bucket_name, Key=permit.pdf.name, Body=b"%PDF-1.7 forged")
    with pytest.raises(CommandError, match=r"1 problem\(s\) found; 2 documents checked"):
        call_command("verify_records")
    assert f"MISMATCH occupancy permit alpha {permit.number}" in capsys.readouterr().err


def test_a_changed_notice_in_the_bucket_is_not_served(
    bucket, chief, viewer, inspector, occupancy, open_visit, general_template
):
    close_with_a_grant(client_for(inspector), occupancy, general_template)
    permit = OccupancyPermit.objects.get()
    occupancy_permit_revoke(permit=permit, actor=chief, reason="Built otherwise.", revoked_on=TODAY)
    notice = permit.revocation.notice_pdf
    url = reverse("occupancy:revocation_notice_pdf", args=["alpha", permit.number])
    data = downloaded(client_for(viewer).get(url))
    assert hashlib.sha256(data).hexdigest() == permit.revocation.notice_sha256
    assert data == object_bytes(bucket, notice.name)

    bucket.put_object(Bucket=bucket.bucket_name, Key=notice.name, Body=b"%PDF-1.7 forged")
    response = client_for(viewer).get(url)
    assert response.status_code == 500
    assert b"forged" not in response.content
    assert "no longer matches the copy recorded" in response.content.decode()


def test_a_taken_final_name_in_the_bucket_is_refused_not_overwritten(
    bucket, inspector, occupancy, open_visit, general_template
):
    year = TODAY.year
    taken = f"occupancy/{year}/alpha/OCC-{year}-0001.pdf"
    bucket.put_object(Bucket=bucket.bucket_name, Key=taken, Body=b"someone else's file")
    response = close_with_a_grant(client_for(inspector), occupancy, general_template)
    assert response.status_code == 302
    assert not OccupancyPermit.objects.exists()
    assert object_bytes(bucket, taken) == b"someone else's file"
    assert keys(bucket) == [taken]  # no suffixed copy beside it, no pending leftover


def test_recover_documents_finishes_a_write_a_crash_interrupted_in_the_bucket(
    bucket, inspector, occupancy, open_visit, general_template, monkeypatch, capsys
):
    publish = core.files.publish

    def killed_before_renaming_the_permit(storage, pending, final):
        if final.startswith("occupancy/"):
            raise OSError("worker killed")  # the row is committed, the file still pending
        publish(storage, pending, final)

    monkeypatch.setattr(core.files, "publish", killed_before_renaming_the_permit)
    close_with_a_grant(client_for(inspector), occupancy, general_template)
    monkeypatch.setattr(core.files, "publish", publish)
    permit = OccupancyPermit.objects.get()
    [pending] = [key for key in keys(bucket) if key.startswith(f"{permit.pdf.name}.pending-")]
    assert permit.pdf.name not in keys(bucket)
    with pytest.raises(CommandError, match="problem"):
        call_command("verify_records")
    assert "its write was not finished: run recover_documents" in capsys.readouterr().err

    # A leftover of a close that rolled back: no row is waiting for it.
    orphan = f"occupancy/{TODAY.year}/alpha/OCC-{TODAY.year}-0099.pdf.pending-0123abcd"
    bucket.put_object(Bucket=bucket.bucket_name, Key=orphan, Body=b"%PDF-1.7 unfinished")
    call_command("recover_documents", "--grace-minutes", "0")
    out = capsys.readouterr().out
    assert f"PUBLISHED {permit.pdf.name}" in out
    assert f"REMOVED {orphan}" in out
    assert pending not in keys(bucket) and orphan not in keys(bucket)
    data = object_bytes(bucket, permit.pdf.name)
    assert hashlib.sha256(data).hexdigest() == permit.pdf_sha256
    call_command("verify_records")
    assert "All 2 documents verified;" in capsys.readouterr().out


def test_healthz_checks_the_bucket_and_leaves_nothing_in_it(db, bucket, settings, client):
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
    assert keys(bucket) == []  # the probe was written, read back and deleted
    missing = {**settings.STORAGES["default"]}
    missing["OPTIONS"] = {**missing["OPTIONS"], "bucket_name": "no-such-bucket"}
    settings.STORAGES = {**settings.STORAGES, "default": missing}
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (503, b"unavailable")


# STORAGE_URL and the AWS_* variables


def backend(monkeypatch, **environment):
    for name in ("STORAGE_URL", "AWS_STORAGE_BUCKET_NAME", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return default_storage_backend(os.environ.get, LOCAL)


def test_local_files_stay_the_default(monkeypatch):
    assert backend(monkeypatch) is LOCAL


def test_storage_url_makes_a_private_bucket_without_overwriting(monkeypatch):
    chosen = backend(
        monkeypatch,
        STORAGE_URL="s3://records/threshold/?endpoint_url=https://minio.example.ca&region=ca-central-1",
        AWS_ACCESS_KEY_ID="key",
        AWS_SECRET_ACCESS_KEY="secret",
    )
    assert chosen == {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": "records",
            "location": "threshold",
            "endpoint_url": "https://minio.example.ca",
            "region_name": "ca-central-1",
            "addressing_style": "path",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "access_key": "key",
            "secret_key": "secret",
        },
    }


def test_the_aws_variables_name_the_bucket_and_the_role_gives_the_keys(monkeypatch):
    chosen = backend(
        monkeypatch, AWS_STORAGE_BUCKET_NAME="records", AWS_S3_REGION_NAME="ca-central-1"
    )
    assert chosen["OPTIONS"]["bucket_name"] == "records"
    assert chosen["OPTIONS"]["region_name"] == "ca-central-1"
    assert "access_key" not in chosen["OPTIONS"]  # boto3's chain: the instance's role


def test_the_keys_can_come_from_files(monkeypatch, tmp_path):
    (tmp_path / "key").write_text("key-from-file\n")
    (tmp_path / "secret").write_text("secret-from-file\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("STORAGE_URL", "s3://records")
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    options = default_storage_backend(env_secret, LOCAL)["OPTIONS"]
    assert (options["access_key"], options["secret_key"]) == ("key-from-file", "secret-from-file")


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"STORAGE_URL": "ftp://records"}, "only s3://<bucket>"),
        ({"STORAGE_URL": "s3://key:secret@records"}, "must not hold the keys"),
        ({"STORAGE_URL": "s3:///folder"}, "names no bucket"),
        ({"STORAGE_URL": "s3://records?regoin=ca-central-1"}, "unknown parameter 'regoin'"),
        ({"STORAGE_URL": "s3://records?endpoint_url=minio:9000"}, "must start with https://"),
        ({"STORAGE_URL": "s3://a", "AWS_STORAGE_BUCKET_NAME": "b"}, "set only one of them"),
        ({"STORAGE_URL": "s3://records", "AWS_ACCESS_KEY_ID": "key"}, "Set both"),
    ],
)
def test_a_bad_storage_setting_stops_the_start_with_a_clear_message(
    monkeypatch, environment, message
):
    with pytest.raises(ImproperlyConfigured, match=message):
        backend(monkeypatch, **environment)


def test_the_signed_url_expires_in_minutes_should_one_ever_be_made(bucket):
    url = default_storage.url("occupancy/x.pdf")
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url
