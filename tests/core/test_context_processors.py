"""The header says who is signed in and as what, from the access data core.access already
read for the request: no query of its own."""

import copy
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import access
from core.context_processors import signed_in_as
from core.models import Membership, Role
from tests.conftest import client_for, make_user
from tests.factories import make_inspection


def header_of(response) -> str:
    """The header's "who am I" text as it reads on screen."""
    html = response.content.decode()
    span = re.search(
        r'<span class="navbar-text text-white" id="signed-in-as">(.*?)</span>\s*<button', html, re.S
    )
    visible = re.sub(r'<span class="visually-hidden">.*?</span>', "", span.group(1))
    return " ".join(re.sub(r"<[^>]+>", "", visible).split())


@pytest.fixture
def work_views(application_a, application_b) -> dict[str, str]:
    return {"alpha": application_a.get_absolute_url(), "beta": application_b.get_absolute_url()}


@pytest.mark.parametrize(
    "persona, expected",
    [
        ("inspector", "Inspector · Inspector, Town of Alpha"),
        ("clerk", "Clerk · Clerk, Town of Alpha"),
        ("viewer", "Viewer · Viewer, Town of Alpha"),
        ("inspector_b", "Inspector_B · Inspector, Township of Beta"),
        ("admin_user", "Admin · Administrator"),
    ],
)
def test_header_shows_the_users_role_and_municipality(request, persona, expected, work_views):
    user = request.getfixturevalue(persona)
    path = work_views["beta" if persona == "inspector_b" else "alpha"]
    assert header_of(client_for(user).get(path)) == expected


def test_header_reads_as_a_sentence_to_a_screen_reader(inspector, work_views):
    html = client_for(inspector).get(work_views["alpha"]).content.decode()
    assert (
        'Inspector<span class="visually-hidden">, signed in as</span>'
        '<span aria-hidden="true"> ·</span> Inspector, Town of Alpha</span>'
    ) in html


def test_several_memberships_are_listed_by_role(municipality_a, municipality_b, work_views):
    from demo import builders

    gamma = builders.municipality(slug="gamma", name="City of Gamma", city="Gamma")
    user = make_user(
        "daniel", municipality_b, Role.INSPECTOR, first_name="Daniel", last_name="Okafor"
    )
    Membership.objects.create(user=user, municipality=municipality_a, role=Role.INSPECTOR)
    Membership.objects.create(user=user, municipality=gamma, role=Role.VIEWER)
    assert header_of(client_for(user).get(work_views["alpha"])) == (
        "Daniel Okafor · Inspector, Town of Alpha and Township of Beta · Viewer, City of Gamma"
    )


def test_three_municipalities_of_one_role_are_listed_with_commas(
    db, municipality_a, municipality_b
):
    from demo import builders

    gamma = builders.municipality(slug="gamma", name="City of Gamma", city="Gamma")
    user = make_user("c", municipality_a, Role.CLERK)
    for municipality in (municipality_b, gamma):
        Membership.objects.create(user=user, municipality=municipality, role=Role.CLERK)
    assert signed_in_as(user) == "Clerk, City of Gamma, Town of Alpha and Township of Beta"


def test_user_without_a_membership_is_told_so(db):
    assert signed_in_as(make_user("stranger")) == "No municipality"


def test_anonymous_header_has_no_role(db):
    html = client_for(None).get("/accounts/login/").content.decode()
    assert 'id="signed-in-as"' not in html


def test_role_text_makes_no_query_once_access_was_checked(inspector, municipality_a):
    access.can(inspector, municipality_a.pk, "inspections.add_visit")
    with CaptureQueriesContext(connection) as context:
        assert signed_in_as(inspector) == "Inspector, Town of Alpha"
    assert context.captured_queries == []


@pytest.fixture
def without_the_header_processor(settings):
    def apply():
        templates = copy.deepcopy(settings.TEMPLATES)
        processors = templates[0]["OPTIONS"]["context_processors"]
        processors.remove("core.context_processors.who_am_i")
        settings.TEMPLATES = templates

    return apply


def test_pages_make_no_more_queries_with_the_header(
    inspector, application_a, framing_type_a, without_the_header_processor
):
    inspection = make_inspection(application_a, framing_type_a)
    client = client_for(inspector)
    paths = [application_a.get_absolute_url(), inspection.get_absolute_url()]

    def counts():
        result = []
        for path in paths:
            with CaptureQueriesContext(connection) as context:
                assert client.get(path).status_code == 200
            result.append(len(context.captured_queries))
        return result

    with_header = counts()
    without_the_header_processor()
    assert header_of(client.get(paths[0])) == "Inspector ·"  # the processor is really off
    assert counts() == with_header
