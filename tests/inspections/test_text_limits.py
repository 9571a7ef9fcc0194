"""Issue 13, deliverable 6: long descriptions are never cut silently. Every text box tells the
browser the limit the server enforces (maxlength, which threshold.js turns into a character
counter), a text over it is refused at its field with nothing saved, and a line break counts
as one character, as the browser counts it."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from inspections.forms import InspectionCancelForm, VisitDraftForm
from inspections.models import Finding, Order, Photo, Visit
from occupancy.forms import VisitResultForm
from tests.conftest import client_for
from tests.factories import make_finding, make_inspection, make_order
from tests.occupancy.test_finish_and_close import grant_data

TAG = re.compile(r"<(textarea|input)\b([^>]*)>", re.S)


def limits(html: str) -> dict[str, int | None]:
    """The maxlength of every textarea and text input of the page's forms, by id."""
    found = {}
    for tag, attributes in TAG.findall(html):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
        kind = attrs.get("type", "text")
        if tag == "textarea" or kind == "text":
            maxlength = attrs.get("maxlength")
            found[attrs.get("id", "?")] = int(maxlength) if maxlength else None
    return found


def field_limit(form_class, name) -> int:
    return form_class.base_fields[name].max_length


@pytest.fixture
def open_visit(application_a, occupancy_type_a, inspector, general_template):
    inspection = make_inspection(application_a, occupancy_type_a)
    return Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)


def test_every_text_box_of_the_inspection_page_carries_the_servers_limit(open_visit, inspector):
    make_finding(open_visit, inspector)  # the photo form offers it
    page = client_for(inspector).get(open_visit.inspection.get_absolute_url())
    found = limits(page.content.decode())
    expected = {
        "finding_description": Finding._meta.get_field("description").max_length,
        "order_issued_to": Order._meta.get_field("issued_to").max_length,
        "order_description": Order._meta.get_field("description").max_length,
        "photo_description": Photo._meta.get_field("description").max_length,
        "visit_internal_notes": field_limit(VisitDraftForm, "internal_notes"),
        "visit_site_conditions": field_limit(VisitDraftForm, "site_conditions"),
        "result_description": field_limit(VisitResultForm, "description"),
        "result_portion_of_building": field_limit(VisitResultForm, "portion_of_building"),
    }
    assert {key: found.get(key) for key in expected} == expected
    assert expected["finding_description"] == expected["order_description"] == 5000
    assert (expected["result_description"], expected["visit_site_conditions"]) == (2000, 2000)
    textareas = re.findall(r"<textarea\b[^>]*>", page.content.decode())
    assert len(textareas) == 5 and all("maxlength=" in t for t in textareas), textareas


def test_the_cancel_reason_and_the_edit_pages_carry_the_limit_too(open_visit, inspector):
    client = client_for(inspector)
    never_visited = make_inspection(
        open_visit.inspection.application, open_visit.inspection.inspection_type
    )
    cancel = limits(client.get(never_visited.get_absolute_url()).content.decode())
    assert cancel["cancel_reason"] == field_limit(InspectionCancelForm, "reason") == 1000
    finding = make_finding(open_visit, inspector)
    order = make_order(open_visit, inspector)
    edit_finding = client.get(reverse("inspections:finding_edit", args=[finding.code]))
    assert limits(edit_finding.content.decode())["finding_description"] == 5000
    edit_order = client.get(reverse("inspections:order_edit", args=[order.code]))
    found = limits(edit_order.content.decode())
    assert (found["order_description"], found["order_issued_to"]) == (5000, 300)


def test_a_description_over_the_limit_is_refused_at_its_field_and_nothing_is_saved(
    open_visit, inspector
):
    response = client_for(inspector).post(
        reverse("inspections:finding_add", args=[open_visit.inspection.code]),
        {
            "discovery_date": timezone.localdate(open_visit.started_at).isoformat(),
            "description": "x" * 5001,
        },
    )
    assert response.status_code == 400
    assert not Finding.objects.exists()
    html = response.content.decode()
    assert "Keep this to at most 5,000 characters (it has 5,001)." in html
    assert "x" * 5001 in html  # given back whole, to shorten


def test_a_line_break_counts_as_one_character_as_in_the_browser(
    open_visit, inspector, general_template
):
    """At the limit as the browser counts it, with line breaks sent as CR LF."""
    text = "\r\n".join(["y" * 998, "z" * 1000])  # 1,999 characters with the break as one
    response = client_for(inspector).post(
        reverse("occupancy:visit_result", args=[open_visit.inspection.code]),
        {**grant_data(general_template), "action": "save", "site_conditions": text + "!"},
    )
    assert response.status_code == 302
    open_visit.refresh_from_db()
    assert open_visit.site_conditions == text.replace("\r\n", "\n") + "!"
    assert len(open_visit.site_conditions) == 2000


def test_site_conditions_over_the_limit_are_refused_and_the_draft_is_kept(
    open_visit, inspector, general_template
):
    open_visit.site_conditions = "Dry, sunny"
    open_visit.save(update_fields=["site_conditions"])
    response = client_for(inspector).post(
        reverse("occupancy:visit_result", args=[open_visit.inspection.code]),
        {**grant_data(general_template), "action": "save", "site_conditions": "w" * 2001},
    )
    assert response.status_code == 400
    assert "Keep this to at most 2,000 characters (it has 2,001)." in (
        response.content.decode()
    )
    open_visit.refresh_from_db()
    assert open_visit.site_conditions == "Dry, sunny"
