"""The suite hashes passwords with MD5 (tests/conftest.py); production keeps Django's default,
slow-on-purpose hasher."""

import importlib

from django.conf import global_settings
from django.contrib.auth import authenticate
from django.test import RequestFactory

from tests.conftest import PASSWORD, make_user


def test_tests_hash_passwords_with_the_cheap_hasher(db):
    user = make_user("hasher")
    assert user.password.startswith("md5$")
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="hasher", password=PASSWORD) == user


def test_production_settings_keep_djangos_default_hashers():
    production = importlib.import_module("config.settings")
    hashers = getattr(production, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
