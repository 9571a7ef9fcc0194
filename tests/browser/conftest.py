"""Real-browser tests: Playwright for Python driving Debian's Chromium against pytest-django's
live server (PostgreSQL in CI, SQLite locally).

Every page a test visits goes through `Pages.check`: axe-core with the WCAG 2.1 A and AA rules,
a screenshot at 1280x800 and at 390x844 into test-artifacts/, and a check that nothing scrolls
horizontally at 390 px. Test data is built with the ORM; most tests log in by handing the
browser a session cookie, the end-to-end and keyboard tests use the login page.
"""

import fcntl
import importlib
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# No preload: axe would parse the page's stylesheets by inserting <style> elements, which
# the site's Content-Security-Policy (rightly) refuses; only css-orientation-lock uses them,
# and no stylesheet of ours locks the orientation.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
    "preload": False,
}


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests. Missing Chromium: a visible skip locally, a
    failure in CI (CI=true), where .ci/run installs it.

    Package scope, not session scope: it is started by the first browser test and stopped
    after the last one, so that Playwright's asyncio loop and DJANGO_ALLOW_ASYNC_UNSAFE
    (below) never reach the tests that run after these (pytest-django runs the live-server
    tests after the other database tests; a leaked variable made `check --deploy` fail)."""
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        reason = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason} (CI=true: the browser tests must run in CI)", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API keeps an asyncio loop running in this thread, and Django
    # refuses ORM calls while a loop runs. The tests are plain synchronous code and the live
    # server runs in its own thread, so allow it for as long as Playwright is running.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def artifacts():
    """test-artifacts/ (git-ignored), emptied at the start of every run. pytest-xdist's
    workers share it and all run browser tests: the first to get here empties it and marks
    it with the run's id (under a lock), the others keep what is there."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    mark = ARTIFACTS / ".run"
    lock = Path(tempfile.gettempdir()) / f"threshold-artifacts-{os.getuid()}.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not (mark.exists() and mark.read_text() == run):
            if ARTIFACTS.exists():
                shutil.rmtree(ARTIFACTS)
            ARTIFACTS.mkdir(parents=True)
            mark.write_text(run)
    return ARTIFACTS


@pytest.fixture
def role_groups(transactional_db):
    """The role groups come from a data migration; a transactional test's flush removes
    them, so make sure they exist (with their permissions) for every browser test."""
    migration = importlib.import_module("permits.migrations.0003_role_groups")
    for name, perms in migration.ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


@pytest.fixture
def context(browser, live_server, role_groups):
    context = browser.new_context(
        viewport=DESKTOP,
        base_url=live_server.url,
        locale="en-CA",
        reduced_motion="reduce",  # no smooth scrolling: a focused element is in view at once
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def log_in_with_cookie(context, live_server, user) -> None:
    """Log in without the login page (which the end-to-end tests use)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


class Pages:
    """Checks every page and state a test reaches: axe, screenshots, phone width."""

    def __init__(self, page, artifacts: Path, prefix: str):
        self.page = page
        self.artifacts = artifacts
        self.prefix = prefix
        self.console_errors: list[str] = []
        self.count = 0
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))

    def _console(self, message):
        # Admin pages have no <link rel="icon">, so Chromium asks for /favicon.ico; a form
        # with errors answers 400 (Chromium logs the page load as failed): neither is a fault.
        if message.type != "error" or "favicon.ico" in message.location.get("url", ""):
            return
        if "the server responded with a status of 400" in message.text:
            return
        self.console_errors.append(message.text)

    def watch(self, page) -> None:
        """Also collect the console of another tab."""
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))

    def check(self, name: str, page=None, *, axe: bool = True) -> None:
        page = page or self.page
        page.wait_for_load_state("load")
        self.count += 1
        stem = f"{self.prefix}-{self.count:02}-{name}"
        # WCAG 2.4.2: a short page title that names the page (and no stray markup in it).
        title = page.title()
        assert title and "<" not in title and len(title) <= 120, f"{stem}: page title {title!r}"
        original = page.viewport_size
        try:
            page.set_viewport_size(DESKTOP)
            if axe:
                assert_no_axe_violations(page, stem)
            page.screenshot(path=self.artifacts / f"{stem}-1280x800.png", full_page=True)
            page.set_viewport_size(PHONE)
            overflow = horizontal_overflow(page)
            assert not overflow, f"{stem}: scrolls horizontally at 390 px: {overflow}"
            if axe:
                assert_no_axe_violations(page, f"{stem} at 390 px")
            page.screenshot(path=self.artifacts / f"{stem}-390x844.png", full_page=True)
        finally:
            page.set_viewport_size(original)
        csp = [e for e in self.console_errors if "Content Security Policy" in e]
        assert not csp, f"{stem}: blocked by the Content-Security-Policy: {csp}"
        errors = [e for e in self.console_errors if e not in csp]
        assert not errors, f"{stem}: errors in the browser console: {errors}"


@pytest.fixture
def pages(page, artifacts, request):
    prefix = re.sub(r"^test_", "", request.node.name)
    return Pages(page, artifacts, prefix)


def assert_no_axe_violations(page, where: str) -> None:
    """axe-core's run on the page as it is now. axe-core (half a megabyte of script) is put
    into each document once: the run at 390 px and those after a change on the same page
    reuse it (Axe().run sent and evaluated it again before every run). Only the violations,
    all that is checked and reported, come back from the page: with them came each rule's
    passes and inapplicable entries, about a tenth of a run's time to serialise."""
    from axe_playwright_python.base import AXE_SCRIPT, AxeResults

    if not page.evaluate("() => typeof window.axe === 'object' && !!window.axe.run"):
        page.evaluate(AXE_SCRIPT)
    results = AxeResults(
        page.evaluate(
            "(options) => axe.run(document, options).then((r) => ({violations: r.violations}))",
            AXE_OPTIONS,
        )
    )
    assert results.violations_count == 0, f"{where}: {results.generate_report()}"


def horizontal_overflow(page) -> list[str]:
    """Empty when the page does not scroll sideways; else the widest offenders."""
    return page.evaluate(
        """() => {
          const root = document.documentElement;
          if (root.scrollWidth <= root.clientWidth) return [];
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.right > root.clientWidth + 1 && r.width > 0) {
              const classes = typeof el.className === 'string' ? el.className.trim() : '';
              out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (classes ? '.' + classes.split(/\\s+/).join('.') : '') +
                ' right=' + Math.round(r.right));
            }
          }
          return [`scrollWidth ${root.scrollWidth} > ${root.clientWidth}`, ...out.slice(0, 8)];
        }"""
    )


@pytest.fixture
def permit_templates(municipality_a):
    """The shipped default templates for a general and a partial occupancy permit."""
    from occupancy.models import OccupancyPermitType, PermitKind
    from tests.occupancy.conftest import make_template

    general = OccupancyPermitType.objects.create(municipality=municipality_a, name="General")
    partial = OccupancyPermitType.objects.create(
        municipality=municipality_a,
        name="Partial",
        kind=PermitKind.PARTIAL,
        needs_portion_of_building=True,
    )
    return {
        "general": make_template(
            municipality_a, general, "General occupancy permit", "general.html"
        ),
        "partial": make_template(
            municipality_a, partial, "Partial occupancy permit", "partial.html"
        ),
    }


def jpeg_file(directory: Path, name="site.jpg", size=(800, 600), color=(90, 140, 60)) -> Path:
    from PIL import Image

    path = directory / name
    Image.new("RGB", size, color).save(path, format="JPEG")
    return path


def assert_errors_described(page, expected: int | None = None) -> None:
    """Every visible error message has an id that the aria-describedby of its field names,
    and every control marked aria-invalid (each radio button of a group too) names a visible
    error message in its aria-describedby."""
    found = page.evaluate(
        """() => {
          const visible = (el) => !!el && el.getClientRects().length > 0;
          const problems = [];
          const messages = [...document.querySelectorAll('main .invalid-feedback, main .errorlist')]
            .filter(visible);
          for (const message of messages) {
            const text = message.textContent.trim().slice(0, 80);
            if (!message.id) { problems.push(`message without an id: "${text}"`); continue; }
            const fields = [...document.querySelectorAll('[aria-describedby]')].filter((el) =>
              el.getAttribute('aria-describedby').split(/\\s+/).includes(message.id));
            if (!fields.length) problems.push(`no field is described by #${message.id}: "${text}"`);
            for (const field of fields) {
              if (!['INPUT', 'SELECT', 'TEXTAREA', 'FIELDSET'].includes(field.tagName))
                problems.push(`#${message.id} describes a ${field.tagName}`);
            }
          }
          // Each invalid control itself (each radio button too) names a visible message.
          for (const field of document.querySelectorAll('main [aria-invalid="true"]')) {
            const ids = (field.getAttribute('aria-describedby') || '').split(/\\s+/);
            const described = ids.filter(Boolean).some((id) => {
              const el = document.getElementById(id);
              return visible(el) && el.matches('.invalid-feedback, .errorlist');
            });
            if (!described) problems.push(`#${field.id} is aria-invalid without a described error`);
          }
          return {count: messages.length, problems,
                  texts: messages.map((m) => m.id + ': ' + m.textContent.trim())};
        }"""
    )
    assert not found["problems"], found["problems"]
    if expected is not None:
        assert found["count"] == expected, (
            f"{found['count']} error messages, expected {expected}: {found['texts']}"
        )


def open_add_form(page, label: str) -> None:
    """Open an "Add …" form and wait until the page has moved the focus into it, as it does
    for a person (threshold.js, a task after the click). Filling a field before that
    task ran let the focus jump to the first field in the middle of the fill, and the text
    went nowhere: the deficiency was then refused as empty (a flaky run under load)."""
    page.get_by_text(label).click()
    page.wait_for_function(
        "document.activeElement && document.activeElement.closest('details.add-form[open]')"
    )
