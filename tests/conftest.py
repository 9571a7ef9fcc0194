"""Personas and a small world shared by every test.

Municipality A ("Town of Alpha") has an inspector, a clerk and a viewer; municipality B has
its own inspector, who must never see A's records. `admin` is the installation's superuser.
Rows are made by demo.builders, the builders seed_demo and the benchmark use too; the make_*
helpers keep the positional signatures the tests call.
"""

import importlib

import pytest
from django.test import Client

from core.models import Role
from demo import builders
from inspections.models import InspectionKind
from occupancy.models import PermitKind


def pytest_configure(config):
    """Tests only: a cheap password hasher. The default one takes about 0.2 s per user created
    or logged in; MD5 keeps logins (django-axes, the browser tests' login page, served by the
    live server in this same process) working at a fraction of that. Production settings keep
    Django's default hashers."""
    from django.test.utils import override_settings

    override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]).enable()
    # Background jobs run at once, when enqueued (after the commit: core.jobs); tests of the
    # queue itself switch to the database backend and run a worker.
    override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ).enable()
    # pytest-xdist hands each worker one test at a time as it frees up, instead of a run of
    # consecutive tests (a quarter of the rest, by default): with runs, one worker got every
    # browser test, or the migration test when the other had nothing left to do, and waited.
    if getattr(config.option, "maxschedchunk", False) is None:
        config.option.maxschedchunk = 1


# The slowest tests first, each in its place in pytest-django's order (database tests, then
# transactional ones, then those without a database; its sort is stable and runs after this
# one): with one test at a time per worker, the run then ends on short tests, never on a
# 36-second migration while the other worker has finished. Measured in docs/performance.md.
SLOW_FIRST = (
    "tests/test_migrations.py",
    "tests/test_bounded_text.py",
    "tests/browser/test_occupancy_workflow.py",
    "tests/browser/test_french_workflow.py",
    "tests/browser/test_outstanding_matters.py",
    "tests/browser/test_keyboard.py",
    "tests/browser/test_dispatch.py",
    "tests/browser/test_accessibility.py",
    "tests/browser/",
    "tests/test_permission_matrix.py",
    "tests/test_fuzzing.py",
    "tests/test_hardening.py",
    "tests/test_production.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        starts = [i for i, prefix in enumerate(SLOW_FIRST) if path.startswith(prefix)]
        return starts[0] if starts else len(SLOW_FIRST)

    items.sort(key=rank)


PASSWORD = "a-long-test-password-123"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _signing_key(settings):
    # Tests run with DEBUG off, where a signing certificate needs SIGNING_KEY (core.signing).
    settings.SIGNING_KEY = "dGhyZXNob2xkLXRlc3RzLXNpZ25pbmcta2V5LTMyYnk="


@pytest.fixture(autouse=True)
def _role_groups(request):
    """Each role's group, as the migrations made it. A transactional test (threads, the
    browser's live server) ends by emptying every table, those rows included; the tests
    after it get them back here."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(
        (marker is not None and marker.kwargs.get("transaction"))
        or names & {"transactional_db", "live_server"}
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.apps import apps

    from core.models import RoleGroup

    if not RoleGroup.objects.exists():
        migration = importlib.import_module("core.migrations.0002_roles_and_permissions")
        migration.link_roles(apps)
        signing = importlib.import_module("core.migrations.0004_signing_certificate")
        signing.grant_signing_certificate_permissions(apps)
        scheduling = importlib.import_module("scheduling.migrations.0002_role_permissions")
        scheduling.grant_scheduling_permissions(apps)
        configuration = importlib.import_module(
            "scheduling.migrations.0003_notify_email_and_configuration"
        )
        configuration.grant_configuration_permissions(apps)
        cancel = importlib.import_module("scheduling.migrations.0006_request_cancel")
        cancel.grant_cancel_permission(apps)
        delivery = importlib.import_module("core.migrations.0005_delivery")
        delivery.grant_delivery_view_permission(apps)


@pytest.fixture
def municipality_a(db):
    return builders.municipality(
        slug="alpha", name="Town of Alpha", city="Alpha", chief_building_official="Ada Byron"
    )


@pytest.fixture
def municipality_b(db):
    return builders.municipality(slug="beta", name="Township of Beta", city="Beta")


def make_user(username, municipality=None, role=None, **extra):
    if role is not None:
        extra["role"] = role
    return builders.staff_user(
        username=username, municipality=municipality, password=PASSWORD, **extra
    )


@pytest.fixture
def inspector(municipality_a):
    return make_user("inspector", municipality_a, Role.INSPECTOR)


@pytest.fixture
def clerk(municipality_a):
    return make_user("clerk", municipality_a, Role.CLERK)


@pytest.fixture
def viewer(municipality_a):
    return make_user("viewer", municipality_a, Role.VIEWER)


@pytest.fixture
def inspector_b(municipality_b):
    return make_user("inspector_b", municipality_b, Role.INSPECTOR)


@pytest.fixture
def chief(municipality_a):
    """The chief building official of municipality A."""
    return make_user("chief", municipality_a, Role.CHIEF_BUILDING_OFFICIAL)


@pytest.fixture
def town_admin(municipality_a):
    """The municipal administrator of municipality A (staff: works in the admin)."""
    return make_user("townadmin", municipality_a, Role.MUNICIPAL_ADMIN)


@pytest.fixture
def town_admin_b(municipality_b):
    return make_user("sampleadmin", municipality_b, Role.MUNICIPAL_ADMIN)


@pytest.fixture
def admin_user(db):
    return make_user("admin", is_staff=True, is_superuser=True)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def personas(inspector, clerk, viewer, inspector_b, admin_user):
    """Name → logged-in client, plus 'anonymous'."""
    return {
        "anonymous": Client(),
        "inspector": client_for(inspector),
        "clerk": client_for(clerk),
        "viewer": client_for(viewer),
        "inspector_b": client_for(inspector_b),
        "admin": client_for(admin_user),
    }


def make_application(municipality, number="B-2026-0001", **fields):
    return builders.application(municipality=municipality, number=number, **fields)


@pytest.fixture
def application_a(municipality_a):
    return make_application(municipality_a)


@pytest.fixture
def application_b(municipality_b):
    return make_application(
        municipality_b, number="TS-2026-0001", street_address="3 Concession Road 5"
    )


@pytest.fixture
def occupancy_type_a(municipality_a):
    return builders.inspection_type(
        municipality=municipality_a,
        name="Occupancy",
        kind=InspectionKind.OCCUPANCY,
        blds_type="Building Final",
        display_order=90,
    )


@pytest.fixture
def framing_type_a(municipality_a):
    return builders.inspection_type(
        municipality=municipality_a, name="Framing", blds_type="Frame", display_order=30
    )


# Occupancy permit types and templates (the shipped default template bodies).
@pytest.fixture
def general_type(municipality_a):
    return builders.permit_type(municipality=municipality_a, name="General")


@pytest.fixture
def partial_type(municipality_a):
    return builders.permit_type(
        municipality=municipality_a,
        name="Partial",
        kind=PermitKind.PARTIAL,
        needs_portion_of_building=True,
    )


@pytest.fixture
def general_template(municipality_a, general_type):
    return builders.permit_template(
        permit_type=general_type, name="General occupancy permit", filename="general.html"
    )


@pytest.fixture
def partial_template(municipality_a, partial_type):
    return builders.permit_template(
        permit_type=partial_type, name="Partial occupancy permit", filename="partial.html"
    )


@pytest.fixture
def french():
    """The French catalogue as make install compiles it (locale/fr_CA, docs/translation.md);
    a test that reads French fails clearly when it is not compiled."""
    from django.utils import translation

    with translation.override("fr-ca"):
        compiled = translation.gettext("Start new visit") == "Démarrer une nouvelle visite"
    assert compiled, "The French catalogue is not compiled: make install (translations compile)"
