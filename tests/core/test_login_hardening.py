"""Login hardening: the password reset is throttled per client address and per account
without revealing anything, and the login lockout keys on the real client's address (from the
trusted proxy's header only with BEHIND_TLS_PROXY)."""

import logging
import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client, RequestFactory, override_settings

from core.accounts import client_address
from tests.conftest import PASSWORD, make_user

RESET = "/accounts/password_reset/"
DONE = "/accounts/password_reset/done/"


@pytest.fixture
def people(municipality_a):
    return [make_user(f"user{i}", municipality_a, email=f"user{i}@alpha.example") for i in range(4)]


def reset(email, client=None, **headers):
    return (client or Client()).post(RESET, {"email": email}, headers=headers)


def test_password_reset_sends_mail_until_the_account_limit_then_answers_the_same(
    people, settings, caplog
):
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 3
    answers = []
    with caplog.at_level(logging.WARNING, logger="core.accounts"):
        for _ in range(5):
            # The e-mail as typed: any case is the same account.
            response = reset("USER0@alpha.example")
            answers.append((response.status_code, response["Location"]))
    assert len(mail.outbox) == 3
    assert all(message.to == ["user0@alpha.example"] for message in mail.outbox)
    # The throttled answers are the normal answer: nothing says the e-mail was not sent.
    assert answers == [(302, DONE)] * 5
    assert "Password reset throttled (per account): no e-mail sent to user0@alpha.example" in (
        caplog.text
    )
    # Another account is not affected.
    reset("user1@alpha.example")
    assert len(mail.outbox) == 4


def test_password_reset_for_an_unknown_address_answers_like_a_known_one(people):
    known = reset("user0@alpha.example")
    unknown = reset("nobody@alpha.example")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1


def test_password_reset_is_throttled_per_client_address(people, settings, caplog):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    client = Client(REMOTE_ADDR="198.51.100.7")
    with caplog.at_level(logging.WARNING, logger="core.accounts"):
        answers = [reset(f"user{i}@alpha.example", client) for i in range(4)]
    assert [(a.status_code, a["Location"]) for a in answers] == [(302, DONE)] * 4
    assert len(mail.outbox) == 2
    assert "Password reset throttled (per address)" in caplog.text
    assert "request from 198.51.100.7" in caplog.text
    # Another address still gets its e-mail.
    reset("user3@alpha.example", Client(REMOTE_ADDR="198.51.100.8"))
    assert len(mail.outbox) == 3


def test_without_the_proxy_setting_a_forwarded_header_does_not_escape_the_address_limit(
    people, settings
):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    for i in range(4):
        reset(f"user{i}@alpha.example", X_FORWARDED_FOR=f"203.0.113.{i}")
    assert len(mail.outbox) == 2


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_the_address_limit_counts_each_client_not_the_proxy(people, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    # Every request reaches the app from the proxy (the test client's 127.0.0.1).
    for i in range(4):
        reset(f"user{i}@alpha.example", X_FORWARDED_FOR=f"203.0.113.{i}")
    assert len(mail.outbox) == 4
    # One client, whatever it puts before the proxy's entry, is one address.
    for i in range(3):
        reset(f"user{i}@alpha.example", X_FORWARDED_FOR=f"10.0.0.{i}, 203.0.113.99")
    assert len(mail.outbox) == 6


def request_with(**meta):
    return RequestFactory().get("/", **meta)


def test_client_address_ignores_the_forwarded_header_without_the_proxy_setting():
    request = request_with(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_address(request) == "192.0.2.1"


@override_settings(BEHIND_TLS_PROXY=True)
def test_client_address_behind_the_proxy_is_the_entry_the_proxy_added():
    assert client_address(
        request_with(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    ) == ("203.0.113.5")
    assert client_address(
        request_with(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="2001:db8::1")
    ) == ("2001:db8::1")
    # No header, or not an address: the connection's address.
    assert client_address(request_with(REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    assert (
        client_address(request_with(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk"))
        == "10.0.0.2"
    )


def fail_logins(username, times, **headers):
    client = Client()
    for _ in range(times):
        client.post(
            "/accounts/login/", {"username": username, "password": "wrong"}, headers=headers
        )


def log_in(username, **headers):
    return Client().post(
        "/accounts/login/", {"username": username, "password": PASSWORD}, headers=headers
    )


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_an_attacker_locks_out_only_their_own_address(inspector):
    fail_logins("inspector", 5, X_FORWARDED_FOR="203.0.113.5")
    # The attacker's address is locked out, even with the right password …
    assert log_in("inspector", X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # … also when it claims another address before the proxy's entry.
    assert log_in("inspector", X_FORWARDED_FOR="198.51.100.7, 203.0.113.5").status_code == 429
    # The real user, from another address through the same proxy, logs in.
    assert log_in("inspector", X_FORWARDED_FOR="198.51.100.7").status_code == 302
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]


def test_without_the_proxy_setting_the_forwarded_header_is_ignored(inspector):
    fail_logins("inspector", 5, X_FORWARDED_FOR="203.0.113.5")
    # A spoofed header does not get the attacker (or anyone on that address) a fresh count.
    assert log_in("inspector", X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_the_reset_link_in_the_e_mail_sets_a_new_password(people):
    reset("user0@alpha.example")
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    new_password = "a-brand-new-password-456"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert "Your password is changed" in client.get(done["Location"]).content.decode()
    response = Client().post("/accounts/login/", {"username": "user0", "password": new_password})
    assert response.status_code == 302
    # The link works once.
    again = Client().get(link, follow=True)
    assert "This link does not work" in again.content.decode()
