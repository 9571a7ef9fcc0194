import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits.models import ApplicationStatus
from tests.conftest import client_for, make_application
from tests.factories import make_closed_visit, make_inspection

LIST = reverse("permits:application_list")


def listed_numbers(response) -> list[str]:
    return [a.number for a in response.context["page_obj"]]


@pytest.fixture
def street_apps(municipality_a):
    make_application(municipality_a, number="B-2026-0101", street_address="12 Lakeshore Road")
    make_application(
        municipality_a,
        number="B-2026-0102",
        street_address="88 Brant Street",
        owner_name="Mei Chen",
        roll_number="2402 111 222 33300 0000",
    )
    make_application(
        municipality_a,
        number="B-2026-0103",
        street_address="5 Brant Street",
        status=ApplicationStatus.OCCUPIED,
    )


def test_search_finds_an_application_by_number(inspector, street_apps):
    response = client_for(inspector).get(LIST, {"q": "b-2026-0102"})
    assert listed_numbers(response) == ["B-2026-0102"]
    assert "88 Brant Street" in response.content.decode()


def test_search_finds_applications_by_street(inspector, street_apps):
    response = client_for(inspector).get(LIST, {"q": "brant street"})
    assert sorted(listed_numbers(response)) == ["B-2026-0102", "B-2026-0103"]


def test_search_finds_by_owner_name_and_roll_number(inspector, street_apps):
    client = client_for(inspector)
    assert listed_numbers(client.get(LIST, {"q": "mei chen"})) == ["B-2026-0102"]
    assert listed_numbers(client.get(LIST, {"q": "2402 111"})) == ["B-2026-0102"]


def test_status_filter_narrows_the_list(inspector, street_apps):
    response = client_for(inspector).get(LIST, {"q": "brant", "status": "occupied"})
    assert listed_numbers(response) == ["B-2026-0103"]


def test_search_without_match_says_so(inspector, street_apps):
    response = client_for(inspector).get(LIST, {"q": "Nowhere Lane"})
    assert listed_numbers(response) == []
    assert "No application matches" in response.content.decode()


def test_search_box_is_an_accessible_search_input(inspector):
    html = client_for(inspector).get(LIST).content.decode()
    assert 'type="search"' in html
    assert '<label for="id_q"' in html
    assert 'role="search"' in html


def test_list_shows_only_the_users_municipality(
    inspector, inspector_b, application_a, application_b
):
    assert listed_numbers(client_for(inspector).get(LIST)) == [application_a.number]
    assert listed_numbers(client_for(inspector_b).get(LIST)) == [application_b.number]
    assert listed_numbers(client_for(inspector_b).get(LIST, {"q": application_a.number})) == []


def test_list_is_ordered_by_latest_activity_and_paginated(inspector, municipality_a):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for i in range(30):
        make_application(
            municipality_a, number=f"B-2026-{i:04}", last_activity_at=now - timedelta(hours=i)
        )
    client = client_for(inspector)
    first = client.get(LIST)
    assert listed_numbers(first)[:2] == ["B-2026-0000", "B-2026-0001"]
    assert len(listed_numbers(first)) == 25
    second = client.get(LIST, {"page": 2})
    assert listed_numbers(second) == [f"B-2026-{i:04}" for i in range(25, 30)]


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(inspector, municipality_a):
    client = client_for(inspector)
    make_application(municipality_a, number="B-1")
    one = count_queries(client, LIST)
    for i in range(2, 51):
        make_application(municipality_a, number=f"B-{i}")
    assert count_queries(client, LIST) == one


def test_work_view_shows_header_inspections_and_empty_occupancy(
    inspector, application_a, occupancy_type_a, framing_type_a
):
    framing = make_inspection(application_a, framing_type_a, assigned_inspector=inspector)
    make_closed_visit(framing, inspector, result="passed")
    make_inspection(application_a, occupancy_type_a)
    html = client_for(inspector).get(application_a.get_absolute_url()).content.decode()
    for text in [
        application_a.number,
        "47 Maple Crescent",
        "Priya Raman",
        "Jordan Smith",
        "Construction started",
        ">Inspections<",
        ">Occupancy<",
        "Framing",
        "Passed",
        ">Open<",
        "Add inspection",
        "No occupancy permit has been issued for this application.",
    ]:
        assert text in html, text


def test_work_view_offers_add_inspection_to_clerk_not_viewer(clerk, viewer, application_a):
    assert (
        "Add inspection" in client_for(clerk).get(application_a.get_absolute_url()).content.decode()
    )
    assert "Add inspection" not in (
        client_for(viewer).get(application_a.get_absolute_url()).content.decode()
    )


def test_work_view_of_another_municipality_is_a_404(inspector_b, application_a):
    assert client_for(inspector_b).get(application_a.get_absolute_url()).status_code == 404


def test_work_view_query_count_does_not_grow_with_inspections(
    inspector, application_a, framing_type_a
):
    client = client_for(inspector)
    inspection = make_inspection(application_a, framing_type_a, assigned_inspector=inspector)
    make_closed_visit(inspection, inspector)
    one = count_queries(client, application_a.get_absolute_url())
    for _ in range(49):
        more = make_inspection(application_a, framing_type_a, assigned_inspector=inspector)
        make_closed_visit(more, inspector)
        make_closed_visit(more, inspector, sequence=2, result="passed")
    assert count_queries(client, application_a.get_absolute_url()) == one


def test_an_occupied_applications_work_view_asks_once_whether_matters_are_open(
    inspector, municipality_a, framing_type_a
):
    """The status note ("with outstanding matters") and the Outstanding matters section of
    an Occupied application need the same answer: the deficiencies and the orders are
    asked about once each, then listed only when some are open."""
    occupied = make_application(
        municipality_a, number="B-2026-0201", status=ApplicationStatus.OCCUPIED
    )
    make_closed_visit(make_inspection(occupied, framing_type_a), inspector, result="passed")
    client = client_for(inspector)

    def reads(table):
        with CaptureQueriesContext(connection) as queries:
            html = client.get(occupied.get_absolute_url()).content.decode()
        return html, sum(f'FROM "{table}"' in q["sql"] for q in queries.captured_queries)

    html, findings = reads("inspections_finding")
    assert (findings, reads("inspections_order")[1]) == (1, 1)
    assert "with outstanding matters" not in html
    assert 'id="outstanding"' not in html
