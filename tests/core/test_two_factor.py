"""The second factor: officials of a municipality that requires it set up an authenticator
and give its code (or a recovery code) after the password, before any page."""

import re
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import Role
from tests.conftest import PASSWORD, make_user
from tests.db_rows import rows

SETUP = "/accounts/two-factor/setup"
VERIFY = "/accounts/two-factor/verify"
STATUS = "/accounts/two-factor/"
RECOVERY = "/accounts/two-factor/recovery-codes"
REGENERATE = "/accounts/two-factor/recovery-codes/regenerate"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's app shows now (or `steps_ahead` periods of 30 s later: a code
    once accepted is never accepted again, so a second login in the same period uses the
    next one, which the device's tolerance of one step accepts)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def log_in(username: str) -> tuple[Client, object]:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client, response


def field_error(response) -> str:
    """The error shown under the code field (crispy's invalid-feedback of #id_code)."""
    html = response.content.decode()
    assert 'id="id_code"' in html
    match = re.search(r'id="error_1_id_code"[^>]*>\s*<strong>(.*?)</strong>', html, re.S)
    assert match, "no error at the code field"
    return match.group(1).strip()


@pytest.fixture
def strict_town(municipality_a):
    municipality_a.require_two_factor_for_officials = True
    municipality_a.save()
    return municipality_a


@pytest.fixture
def official(strict_town):
    return make_user("townadmin", strict_town, Role.MUNICIPAL_ADMIN)


def set_up(client, user) -> list[str]:
    """Go through setup with the right code; returns the recovery codes shown."""
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(SETUP, {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == RECOVERY
    page = client.get(RECOVERY)
    assert page.status_code == 200
    return re.findall(r'<li class="col">([a-z2-7]{8})</li>', page.content.decode())


def test_a_required_official_without_a_device_is_sent_to_setup_and_reaches_no_other_page(
    official, application_a
):
    client, login = log_in("townadmin")
    first = client.get(login["Location"])
    assert first.status_code == 302
    assert first["Location"].startswith(SETUP + "?next=")
    for path in [
        "/",
        f"/applications/alpha/{application_a.number}/",
        "/admin/",
        "/admin/core/municipality/",
        "/accounts/password_change/",
        STATUS,
        VERIFY,
        RECOVERY,
    ]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(SETUP), path
    # A state change is refused too (nothing is posted to the page; the user is sent away).
    response = client.post(REGENERATE)
    assert response["Location"] == SETUP
    assert not StaticDevice.objects.exists()
    # The setup page itself, and logging out, are open.
    assert client.get(SETUP).status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_setup_shows_the_key_as_text_and_as_a_qr_code(official):
    client, _ = log_in("townadmin")
    page = client.get(SETUP)
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=official, confirmed=False)
    secret = re.search(r'id="secret-key">([A-Z2-7 ]+)<', html).group(1)
    assert secret.replace(" ", "") == device.config_url.split("secret=")[1].split("&")[0]
    assert "<svg" in html and "QR code of the key" in html
    assert "style=" not in html  # the CSP forbids inline style
    assert "Town of Alpha requires a second factor for your role" in html
    # A reload shows the same key: what the user scanned stays valid.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=official).count() == 1


def test_setup_with_a_wrong_code_is_refused_at_the_field(official):
    client, _ = log_in("townadmin")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=official)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 200
    assert field_error(response) == (
        "That code is not right. Enter the 6 digits the app shows now."
    )
    # Throttled: even the right code waits after a wrong one.
    too_soon = client.post(SETUP, {"code": code_for(device)})
    assert field_error(too_soon).startswith("Too many wrong codes. Wait ")
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1
    assert not StaticDevice.objects.exists()
    # Still owes the setup.
    assert client.get("/")["Location"].startswith(SETUP)


def test_setup_with_the_right_code_confirms_and_shows_ten_recovery_codes_once(official):
    client, _ = log_in("townadmin")
    codes = set_up(client, official)
    assert len(set(codes)) == 10
    assert set(
        StaticToken.objects.filter(device__user=official).values_list("token", flat=True)
    ) == set(codes)
    assert TOTPDevice.objects.get(user=official).confirmed
    # Shown once: the page is gone on reload.
    assert client.get(RECOVERY)["Location"] == STATUS
    # This session is verified: every page opens, and the status page says 2FA is on.
    assert client.get("/").status_code == 200
    status = client.get(STATUS).content.decode()
    assert "<strong>On.</strong>" in status
    assert "<strong>10</strong> recovery codes left" in status


def test_a_later_login_needs_the_code_and_a_wrong_one_is_refused(official, application_a):
    set_up(log_in("townadmin")[0], official)
    client, login = log_in("townadmin")
    wanted = f"/applications/alpha/{application_a.number}/"
    response = client.get(wanted)
    assert response["Location"] == f"{VERIFY}?next={quote(wanted, safe='')}"
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    device = TOTPDevice.objects.get(user=official)
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"
    refused = client.post(VERIFY, {"code": wrong, "next": wanted})
    assert refused.status_code == 200
    assert field_error(refused).startswith("That code is not right.")
    assert client.get("/")["Location"].startswith(VERIFY)
    # Wrong codes wait 1 s, then 2 s …: let the first pass.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    accepted = client.post(VERIFY, {"code": code_for(device, 1), "next": wanted})
    assert accepted.status_code == 302
    assert accepted["Location"] == wanted
    assert client.get(wanted).status_code == 200


def test_the_same_code_is_not_accepted_twice(official):
    set_up(log_in("townadmin")[0], official)
    device = TOTPDevice.objects.get(user=official)
    code = code_for(device, 1)
    first, _ = log_in("townadmin")
    assert first.post(VERIFY, {"code": code})["Location"] == resolve_url(
        settings.LOGIN_REDIRECT_URL
    )
    second, _ = log_in("townadmin")
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert field_error(response).startswith("That code is not right.")


def test_a_recovery_code_works_once(official):
    codes = set_up(log_in("townadmin")[0], official)
    client, _ = log_in("townadmin")
    response = client.post(VERIFY, {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=official).count() == 9
    assert not StaticToken.objects.filter(token=codes[0]).exists()

    again, _ = log_in("townadmin")
    refused = again.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 200
    assert field_error(refused).startswith("That code is not right.")
    assert again.get("/")["Location"].startswith(VERIFY)


def test_new_recovery_codes_replace_the_old_ones(official):
    client, _ = log_in("townadmin")
    old = set_up(client, official)
    response = client.post(REGENERATE)
    assert response["Location"] == RECOVERY
    new = re.findall(r'<li class="col">([a-z2-7]{8})</li>', client.get(RECOVERY).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    other, _ = log_in("townadmin")
    assert other.post(VERIFY, {"code": old[1]}).status_code == 200
    other_device = StaticDevice.objects.get(user=official)
    other_device.throttling_failure_count = 0
    other_device.save()
    assert other.post(VERIFY, {"code": new[1]}).status_code == 302


def test_a_get_of_regenerate_changes_nothing(official):
    client, _ = log_in("townadmin")
    set_up(client, official)
    before = rows(StaticToken)
    assert client.get(REGENERATE).status_code == 405
    assert rows(StaticToken) == before


def test_wrong_codes_are_throttled_even_a_right_one_waits(official):
    set_up(log_in("townadmin")[0], official)
    device = TOTPDevice.objects.get(user=official)
    client, _ = log_in("townadmin")
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"
    assert field_error(client.post(VERIFY, {"code": wrong})).startswith("That code is not right")
    second = client.post(VERIFY, {"code": code_for(device, 1)})
    assert second.status_code == 200
    assert re.fullmatch(
        r"Too many wrong codes\. Wait \d+ seconds, then try again\.", field_error(second)
    )
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert client.get("/")["Location"].startswith(VERIFY)
    # Recovery codes are throttled the same way.
    static = StaticDevice.objects.get(user=official)
    client.post(VERIFY, {"code": "aaaaaaaa"})
    assert re.fullmatch(
        r"Too many wrong codes\. Wait \d+ seconds, then try again\.",
        field_error(client.post(VERIFY, {"code": "bbbbbbbb"})),
    )
    static.refresh_from_db()
    assert static.throttling_failure_count == 1


def test_a_chief_building_official_is_required_too(strict_town):
    make_user("cbo", strict_town, Role.CHIEF_BUILDING_OFFICIAL)
    client, login = log_in("cbo")
    assert client.get(login["Location"])["Location"].startswith(SETUP)


def assert_landed_without_a_code(client, login) -> None:
    """Signing in leads to the landing page (My today or the applications, by role: issue
    17), never through the second factor's pages."""
    response = client.get(login["Location"], follow=True)
    assert response.status_code == 200
    assert [url for url, _ in response.redirect_chain] in (["/today/"], ["/"])


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.CLERK, Role.VIEWER])
def test_other_roles_in_the_same_municipality_are_not_asked(strict_town, role):
    make_user("someone", strict_town, role)
    client, login = log_in("someone")
    assert_landed_without_a_code(client, login)


def test_a_municipality_that_does_not_require_it_does_not_ask(municipality_a, strict_town):
    # strict_town is municipality_a; another municipality without the requirement:
    from demo import builders

    relaxed = builders.municipality(slug="relaxed", name="Village of Relaxed")
    make_user("relaxedadmin", relaxed, Role.MUNICIPAL_ADMIN)
    client, login = log_in("relaxedadmin")
    assert_landed_without_a_code(client, login)
    assert not TOTPDevice.objects.exists()


def test_superusers_are_asked_only_if_they_have_a_device(admin_user):
    client, login = log_in("admin")
    assert client.get("/admin/").status_code == 200
    # Optional for them: they may set it up, and then it is asked.
    set_up(client, admin_user)
    again, _ = log_in("admin")
    assert again.get("/admin/")["Location"].startswith(VERIFY)


def test_the_code_page_never_sends_the_user_off_the_site(official):
    set_up(log_in("townadmin")[0], official)
    device = TOTPDevice.objects.get(user=official)
    client, _ = log_in("townadmin")
    response = client.post(VERIFY, {"code": code_for(device, 1), "next": "https://evil.example/"})
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_the_admin_offers_the_requirement_on_the_municipality(admin_user, municipality_a):
    client, _ = log_in("admin")
    page = client.get(f"/admin/core/municipality/{municipality_a.pk}/change/")
    assert page.status_code == 200
    assert 'name="require_two_factor_for_officials"' in page.content.decode()
    assert "Require a second factor (authenticator app) for municipal administrators" in (
        page.content.decode()
    )


@pytest.mark.parametrize("path", [STATUS, VERIFY, SETUP, RECOVERY, REGENERATE])
def test_the_two_factor_pages_are_behind_the_login(db, path):
    for response in (Client().get(path), Client().post(path)):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert not TOTPDevice.objects.exists()


def test_a_user_without_an_authenticator_may_turn_it_on(inspector):
    client, _ = log_in("inspector")
    status = client.get(STATUS).content.decode()
    assert "<strong>Off.</strong>" in status
    set_up(client, inspector)
    again, _ = log_in("inspector")
    assert again.get("/")["Location"].startswith(VERIFY)


def test_a_public_page_asks_no_code_of_anyone(official, application_a, occupancy_type_a):
    """The permit verification page needs no login: someone signed in who still owes a
    second factor sees it as everyone does (and still gets no other page)."""
    from occupancy.models import PermitVerification
    from tests.factories import make_inspection
    from tests.permits.test_constraints import issue_raw_permit

    permit = issue_raw_permit(
        make_inspection(application_a, occupancy_type_a), official, "P-1", real_snapshot=True
    )
    token = PermitVerification.objects.create(permit=permit).token
    client, _user = log_in("townadmin")
    page = client.get(f"/v/{token}")
    assert page.status_code == 200
    assert "P-1" in page.content.decode()
    assert client.get("/")["Location"].startswith(SETUP)
