"""The second factor in a real browser: an official of a municipality that requires it logs in,
sets up an authenticator (QR code and key), sees the recovery codes, and on the next login
gives a code; every page passes axe and fits a phone."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from core.models import Role
from tests.browser.conftest import assert_errors_described
from tests.browser.test_occupancy_workflow import log_in
from tests.conftest import make_user
from tests.core.test_two_factor import code_for

pytestmark = pytest.mark.browser


def test_an_official_sets_up_an_authenticator_and_gives_a_code_at_the_next_login(
    context, page, pages, live_server, municipality_a
):
    municipality_a.require_two_factor_for_officials = True
    municipality_a.save()
    official = make_user("townadmin", municipality_a, Role.MUNICIPAL_ADMIN)

    page.goto("/")
    log_in(page, "townadmin")
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code of the key for your authenticator app")
    ).to_be_visible()
    pages.check("setup")
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("That code is not right")
    assert_errors_described(page, expected=1)
    pages.check("setup-wrong-code")

    device = TOTPDevice.objects.get(user=official)
    device.throttling_failure_count = 0  # the wrong code's 1-second wait
    device.save()
    page.get_by_label("Code from the app").fill(code_for(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    pages.check("recovery-codes")
    page.get_by_role("link", name="I have saved my codes").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()

    page.goto("/accounts/two-factor/")
    expect(page.locator("#two-factor-state")).to_contain_text("On.")
    pages.check("status")

    context.clear_cookies()
    page.goto("/")
    log_in(page, "townadmin")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert re.search(r"/accounts/two-factor/verify\?next=", page.url)
    pages.check("verify")
    page.get_by_label("Code").fill(code_for(device, 1))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()
