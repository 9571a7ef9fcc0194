"""The inspection view of an inspection with a long history: All visits lists the latest
visits with a way to every one, and the Add order and Add photos forms offer only the
findings that can be linked (those open at the visit), not every finding ever recorded."""

import pytest
from django.urls import reverse

from inspections.models import Order, Visit
from inspections.sections import LATEST_VISITS
from tests.conftest import client_for
from tests.factories import make_closed_visit, make_finding, make_inspection, make_order

CLOSED_VISITS = 25


@pytest.fixture
def inspection(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def history(inspection, inspector):
    """25 closed visits, each but the last leaving a deficiency the next one corrected; the
    last one's deficiency is still open, as is a remark of the first; visit 26 is open with
    a finding of its own."""
    visits = [
        make_closed_visit(inspection, inspector, sequence=sequence)
        for sequence in range(1, CLOSED_VISITS + 1)
    ]
    corrected = [
        make_finding(
            visit, inspector, description=f"Corrected deficiency {visit.sequence}",
            corrected_on_visit=next_visit,
        )
        for visit, next_visit in zip(visits, visits[1:], strict=False)
    ]
    return {
        "corrected": corrected,
        "open": make_finding(visits[-1], inspector, description="Guard missing at rear deck"),
        "remark": make_finding(visits[0], inspector, description="Old remark", is_remark=True),
        "new": make_finding(
            Visit.objects.create(
                inspection=inspection, sequence=CLOSED_VISITS + 1, started_by=inspector
            ),
            inspector,
            description="Handrail loose",
        ),
    }


def _offered(form, field) -> set[int]:
    return {int(value) for value, _ in form.fields[field].choices if value != ""}


def test_all_visits_lists_the_latest_and_links_to_every_one(inspector, inspection, history):
    client = client_for(inspector)
    page = client.get(inspection.get_absolute_url())
    shown = [visit.sequence for visit in page.context["closed_visits"]]
    assert shown == list(range(CLOSED_VISITS, CLOSED_VISITS - LATEST_VISITS, -1))
    assert page.context["more_visits"] is True
    every = f'href="{inspection.get_absolute_url()}?visits=all#visits">Show all visits</a>'
    assert every in page.content.decode()

    page = client.get(inspection.get_absolute_url() + "?visits=all")
    shown = [visit.sequence for visit in page.context["closed_visits"]]
    assert shown == list(range(CLOSED_VISITS, 0, -1))
    assert "Show the latest visits only" in page.content.decode()


def test_a_short_history_is_listed_whole_without_a_show_all_link(inspector, inspection):
    make_closed_visit(inspection, inspector, sequence=1)
    page = client_for(inspector).get(inspection.get_absolute_url())
    assert [visit.sequence for visit in page.context["closed_visits"]] == [1]
    assert "Show all visits" not in page.content.decode()


def test_add_forms_offer_only_the_findings_open_at_the_visit(inspector, inspection, history):
    page = client_for(inspector).get(inspection.get_absolute_url())
    linkable = {history["open"].pk, history["new"].pk}
    assert _offered(page.context["order_form"], "findings") == linkable
    assert _offered(page.context["photo_form"], "finding") == linkable


def test_an_order_cannot_be_linked_to_a_deficiency_corrected_long_ago(
    inspector, inspection, history
):
    response = client_for(inspector).post(
        reverse("inspections:order_add", args=[inspection.code]),
        {
            "order_type": "order_to_comply",
            "issued_to": "Jordan Smith, owner",
            "description": "Install a guard",
            "findings": [history["corrected"][0].pk],
        },
    )
    assert response.status_code == 400
    assert list(response.context["order_form"].errors) == ["findings"]
    assert not Order.objects.exists()


def test_editing_an_order_keeps_its_links_offered(inspector, inspection, history):
    """A link made while the deficiency was open stays on the edit form after it was
    corrected (saving the order does not drop it)."""
    open_visit = inspection.visits.get(sequence=CLOSED_VISITS + 1)
    order = make_order(open_visit, inspector, findings=[history["corrected"][0]])
    page = client_for(inspector).get(reverse("inspections:order_edit", args=[order.code]))
    assert _offered(page.context["form"], "findings") == {
        history["corrected"][0].pk,
        history["open"].pk,
        history["new"].pk,
    }
