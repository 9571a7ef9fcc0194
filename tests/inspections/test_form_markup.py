"""The inspection view's forms are rendered by core.templatetags.bootstrap_fields (issue 16),
in the markup crispy-forms gives them with this project's bootstrap5 templates: the same
labels, classes, ids, help texts, error messages and aria attributes, blank and with
errors. Whitespace between and inside tags aside; a select is Django's own, to the
character."""

import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms

from core.templatetags.bootstrap_fields import (
    _input,
    _plain_input,
    _plain_select,
    _select,
    bootstrap_field,
    bootstrap_form,
)
from demo import builders
from inspections.forms import FindingForm, InspectionCancelForm, OrderForm, PhotoUploadForm
from inspections.queries import linkable_findings
from occupancy.forms import VisitResultForm, visit_details_form
from occupancy.models import OccupancyCondition
from tests.factories import make_finding, make_inspection


def squeezed(html) -> str:
    html = re.sub(r"\s+", " ", str(html))
    html = re.sub(r"\s*([<>])\s*", r"\1", html)
    return re.sub(r'"\s+>', '">', html).strip()


@pytest.fixture
def open_visit(application_a, occupancy_type_a, inspector):
    inspection = make_inspection(application_a, occupancy_type_a)
    return builders.visit(inspection=inspection, inspector=inspector)


@pytest.fixture
def findings(open_visit, inspector):
    for number in range(3):
        make_finding(open_visit, inspector, is_remark=number == 2)
    return lambda: linkable_findings(open_visit)


FORMS = {
    "finding": lambda visit, findings: FindingForm(),
    "finding with errors": lambda visit, findings: FindingForm(
        {"discovery_date": "2999-01-01", "description": " "}
    ),
    "order": lambda visit, findings: OrderForm(findings=findings()),
    "order with errors": lambda visit, findings: OrderForm(
        {"comply_by": "2000-01-01", "findings": ["999999"]}, findings=findings()
    ),
    "photos": lambda visit, findings: PhotoUploadForm(findings=findings()),
    "photos with errors": lambda visit, findings: PhotoUploadForm(
        {"finding": "x"}, {}, findings=findings()
    ),
    "cancel": lambda visit, findings: InspectionCancelForm(),
    "cancel with errors": lambda visit, findings: InspectionCancelForm({"reason": ""}),
    "visit": lambda visit, findings: visit_details_form(visit),
    "visit with errors": lambda visit, findings: visit_details_form(
        visit, {"visit_type": "x", "time_used_minutes": "-4"}
    ),
}


@pytest.mark.parametrize("name", FORMS)
def test_a_form_has_crispys_markup(name, open_visit, findings):
    crispy, ours = (FORMS[name](open_visit, findings) for _ in range(2))
    if crispy.is_bound:
        assert not crispy.is_valid() and not ours.is_valid()
    assert squeezed(bootstrap_form(ours)) == squeezed(as_crispy_form(crispy))
    for field in ours:
        if _plain_select(field):
            assert _select(field) == field.as_widget()
        if _plain_input(field):
            assert _input(field) == field.as_widget()


@pytest.mark.parametrize("data", [None, {"result": "x", "granted_on": "x", "template": "0"}])
def test_the_result_fields_have_crispys_markup(data, open_visit, inspector, general_template):
    for number in range(2):
        OccupancyCondition.objects.create(
            permit_type=general_template.permit_type, clause=f"C.{number} <&>", text="Guards"
        )
    crispy, ours = (VisitResultForm(data, visit=open_visit, user=inspector) for _ in range(2))
    if data:
        assert not crispy.is_valid() and not ours.is_valid()
    (_, conditions), *_ = ours.checklist_groups()
    names = ["result", "failure_reason", "template", "granted_on", "description"]
    for name in [*names, "portion_of_building", "expires_on", *(c.name for c in conditions)]:
        assert squeezed(bootstrap_field(ours[name])) == squeezed(as_crispy_field(crispy[name]))


def test_an_input_and_a_textarea_are_djangos_to_the_character():
    class Typed(forms.Form):
        text = forms.CharField(max_length=20, help_text="<b>Help</b>")
        note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
        day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        count = forms.IntegerField(min_value=0, disabled=True)
        mail = forms.EmailField()
        agreed = forms.BooleanField()

    typed = {
        "text": 'a "quoted" <value> & more',
        "note": "line <one>\nline & two",
        "day": "x",
        "count": "4",
        "mail": "",
        "agreed": "on",
    }
    for form in (Typed(), Typed(typed), Typed(initial={"agreed": True, "note": ""})):
        form.is_valid() if form.is_bound else None
        for field in form:
            assert _plain_input(field), field.name
            assert _input(field) == field.as_widget(), field.name


def test_a_select_is_djangos_to_the_character():
    class Grouped(forms.Form):
        one = forms.ChoiceField(
            choices=[("A <&>", [("1", "one & <two>"), ("2", "2")]), ("3", "three")], initial="2"
        )
        many = forms.MultipleChoiceField(choices=[("1", "a"), ("2", "b")], initial=["1", "2"])

    for field in Grouped():
        assert _plain_select(field)
        assert _select(field) == field.as_widget()


def test_the_widget_filter_is_as_widget_to_the_character(application_a, client, clerk):
    """{{ field|widget }}, used for the Work view's Inspection type and the application
    list's filters, writes what {{ field.as_widget }} would, the selected option included."""
    from django.urls import reverse

    from core.templatetags.bootstrap_fields import widget
    from inspections.forms import InspectionAddForm
    from permits.forms import ApplicationSearchForm

    fields = [
        *InspectionAddForm(application=application_a),
        *ApplicationSearchForm({"q": "x", "status": "occupied", "show": ""}),
        *ApplicationSearchForm(),
    ]
    for field in fields:
        assert widget(field) == field.as_widget(), field.name
    client.force_login(clerk)
    html = client.get(application_a.get_absolute_url()).content.decode()
    assert str(InspectionAddForm(application=application_a)["inspection_type"].as_widget()) in html
    html = client.get(reverse("permits:application_list") + "?status=occupied").content.decode()
    assert 'value="occupied" selected' in html
