"""Where photos and issued documents are stored: local files (MEDIA_ROOT, the default for
`make run`), or an S3-compatible bucket through django-storages.

    STORAGE_URL=s3://threshold-records/prod?endpoint_url=https://s3.ca-central-1.amazonaws.com&region=ca-central-1

or the variables django-storages users know: AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
AWS_S3_REGION_NAME, AWS_LOCATION. The keys are never part of the URL: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (or their _FILE variants), else boto3's own chain (an instance role).

The bucket is private: objects get no ACL (the bucket's policy rules), any URL the storage
makes is signed and short-lived, and nothing links to one: downloads stream through the
app's views, which check access (and, for a revocation notice, the SHA-256). A name is never
overwritten nor suffixed (core.files refuses a taken final name; file_overwrite=False keeps
S3 from silently replacing an object).
"""

import os
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"

# STORAGE_URL's query parameters and the S3Storage option each sets.
_URL_OPTIONS = {
    "endpoint_url": "endpoint_url",
    "region": "region_name",
    "addressing_style": "addressing_style",
    "signature_version": "signature_version",
}

# Signed URLs live minutes, not django-storages' default hour: none is handed out today,
# and one that ever is should not outlive the page that showed it.
SIGNED_URL_SECONDS = 300


def _private_bucket(bucket: str, **options) -> dict:
    options = {key: value for key, value in options.items() if value}
    if options.get("endpoint_url"):
        # MinIO, Ceph and test servers answer at one host: path-style addressing reaches
        # the bucket without DNS names per bucket.
        options.setdefault("addressing_style", "path")
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": bucket,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": SIGNED_URL_SECONDS,
            "file_overwrite": False,
            **options,
        },
    }


def _from_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured(
            f"STORAGE_URL={url!r}: only s3://<bucket>[/<folder>]?endpoint_url=…&region=… is "
            "understood (leave STORAGE_URL unset for local files under MEDIA_ROOT)."
        )
    if parts.username or parts.password:
        raise ImproperlyConfigured(
            "STORAGE_URL must not hold the keys: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID_FILE and AWS_SECRET_ACCESS_KEY_FILE)."
        )
    if not parts.hostname:
        raise ImproperlyConfigured(f"STORAGE_URL={url!r} names no bucket: s3://<bucket>.")
    options = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _URL_OPTIONS:
            raise ImproperlyConfigured(
                f"STORAGE_URL: unknown parameter {key!r} (known: {', '.join(_URL_OPTIONS)})."
            )
        options[_URL_OPTIONS[key]] = value
    endpoint = options.get("endpoint_url")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ImproperlyConfigured(
            f"STORAGE_URL: endpoint_url={endpoint!r} must start with https:// (or http://)."
        )
    # hostname is lower-cased by urlsplit; bucket names are lower case anyway (S3 rules).
    return _private_bucket(parts.hostname, location=parts.path.strip("/"), **options)


def default_storage_backend(secret: Callable[[str], str | None], local: dict) -> dict:
    """STORAGES["default"] from the environment: the bucket STORAGE_URL or
    AWS_STORAGE_BUCKET_NAME names, else `local` (files under MEDIA_ROOT). `secret` reads a
    variable or its _FILE (config.env.env_secret)."""
    url = os.environ.get("STORAGE_URL", "").strip()
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if url and bucket:
        raise ImproperlyConfigured(
            "Both STORAGE_URL and AWS_STORAGE_BUCKET_NAME are set: set only one of them."
        )
    if url:
        backend = _from_url(url)
    elif bucket:
        backend = _private_bucket(
            bucket,
            endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL"),
            region_name=os.environ.get("AWS_S3_REGION_NAME"),
            location=os.environ.get("AWS_LOCATION", "").strip("/"),
        )
    else:
        return local
    access_key, secret_key = secret("AWS_ACCESS_KEY_ID"), secret("AWS_SECRET_ACCESS_KEY")
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or neither, to use the "
            "instance's role)."
        )
    if access_key:
        backend["OPTIONS"].update(access_key=access_key, secret_key=secret_key)
    return backend
