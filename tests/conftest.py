"""Personas and a small world shared by every test.

Municipality A ("Town of Alpha") has an inspector, a clerk and a viewer; municipality B has
its own inspector, who must never see A's records. `admin` is the installation's superuser.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.models import Membership, Municipality, Role
from inspections.models import InspectionKind, InspectionType
from occupancy.models import OccupancyPermitType, PermitKind
from permits.models import Application, ApplicationStatus

PASSWORD = "a-long-test-password-123"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def municipality_a(db):
    return Municipality.objects.create(
        slug="alpha", name="Town of Alpha", city="Alpha", chief_building_official="Ada Byron"
    )


@pytest.fixture
def municipality_b(db):
    return Municipality.objects.create(slug="beta", name="Township of Beta", city="Beta")


def make_user(username, municipality=None, role=None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=username.title(), **extra
    )
    if municipality is not None:
        Membership.objects.create(user=user, municipality=municipality, role=role)
    return user


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
    defaults = dict(
        description="New single detached dwelling with attached garage",
        street_address="47 Maple Crescent",
        city=municipality.city or "Alpha",
        postal_code="L7R 3Y4",
        roll_number="2402 020 030 01500 0000",
        applicant_name="Priya Raman",
        applicant_email="priya@example.com",
        owner_name="Jordan Smith",
        status=ApplicationStatus.CONSTRUCTION_STARTED,
        applied_on=datetime.date(2026, 1, 5),
        permit_issued_on=datetime.date(2026, 2, 1),
    )
    defaults.update(fields)
    return Application.objects.create(municipality=municipality, number=number, **defaults)


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
    return InspectionType.objects.create(
        municipality=municipality_a,
        name="Occupancy",
        kind=InspectionKind.OCCUPANCY,
        blds_type="Building Final",
        display_order=90,
    )


@pytest.fixture
def framing_type_a(municipality_a):
    return InspectionType.objects.create(
        municipality=municipality_a, name="Framing", blds_type="Frame", display_order=30
    )


# Occupancy permit types and templates (the shipped default template bodies).
@pytest.fixture
def general_type(municipality_a):
    return OccupancyPermitType.objects.create(municipality=municipality_a, name="General")


@pytest.fixture
def partial_type(municipality_a):
    return OccupancyPermitType.objects.create(
        municipality=municipality_a,
        name="Partial",
        kind=PermitKind.PARTIAL,
        needs_portion_of_building=True,
    )


@pytest.fixture
def general_template(municipality_a, general_type):
    return _make_template(municipality_a, general_type, "General occupancy permit", "general.html")


@pytest.fixture
def partial_template(municipality_a, partial_type):
    return _make_template(municipality_a, partial_type, "Partial occupancy permit", "partial.html")


def _make_template(*args):
    from tests.occupancy.conftest import make_template

    return make_template(*args)
