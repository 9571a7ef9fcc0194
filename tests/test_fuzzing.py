"""Hypothesis drives every form with hostile text, huge values, odd Unicode, wrong types and
missing fields: never a server error, and what was saved before is unchanged."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspections.models import Finding, Order, Photo, Visit
from tests.factories import make_finding, make_inspection, make_order

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),  # what HTTP can carry
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "{{ settings.SECRET_KEY }}",
            "{% debug %}",
            "' OR 1=1 --",
            "\x00null byte",
            "\u202eright-to-left override",
            "🏠" * 500,
            "a" * 100_000,
            "2026-02-30",
            "-1",
            "99999999999999999999",
            "",
            " ",
        ]
    ),
)
value = st.one_of(hostile_text, st.integers(), st.booleans(), st.lists(hostile_text, max_size=3))


def form_data(keys):
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys)).map(
        lambda d: {k: (v if isinstance(v, list) else str(v)) for k, v in d.items()}
    )


@pytest.fixture
def world(inspector, application_a, occupancy_type_a, general_template):
    inspection = make_inspection(application_a, occupancy_type_a)
    visit = Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    finding = make_finding(visit, inspector, description="Saved before")
    order = make_order(visit, inspector, description="Order saved before")
    client = Client(raise_request_exception=True)
    client.force_login(inspector)
    return {"client": client, "inspection": inspection, "finding": finding, "order": order}


def saved_state():
    return (
        list(Finding.objects.order_by("id").values_list("id", "description", "is_remark")),
        list(Order.objects.order_by("id").values_list("id", "description", "issued_to")),
        list(Visit.objects.order_by("id").values_list("id", "status", "result")),
    )


def assert_no_server_error(response):
    assert response.status_code < 500


@FUZZ
@given(data=form_data(["discovery_date", "description", "is_remark"]))
def test_finding_forms(world, data):
    before = saved_state()
    client, code = world["client"], world["inspection"].code
    response = client.post(reverse("inspections:finding_add", args=[code]), data)
    assert_no_server_error(response)
    edit = client.post(reverse("inspections:finding_edit", args=[world["finding"].code]), data)
    assert_no_server_error(edit)
    if response.status_code == 400 and edit.status_code == 400:
        assert saved_state() == before


@FUZZ
@given(data=form_data(["order_type", "issued_to", "description", "comply_by", "findings"]))
def test_order_forms(world, data):
    before = saved_state()
    client, code = world["client"], world["inspection"].code
    response = client.post(reverse("inspections:order_add", args=[code]), data)
    assert_no_server_error(response)
    edit = client.post(reverse("inspections:order_edit", args=[world["order"].code]), data)
    assert_no_server_error(edit)
    if response.status_code == 400 and edit.status_code == 400:
        assert saved_state() == before


@FUZZ
@given(
    content=st.binary(max_size=3000),
    # Any name a browser could send: no path separators (the test client keeps the basename),
    # and not "." or "..", which Django's own upload class refuses to hold (a test-side
    # limit: the multipart parser never builds such an upload).
    name=st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1, max_size=80
    ).filter(lambda name: name not in {".", ".."}),
    data=form_data(["description", "finding"]),
)
def test_photo_form(world, content, name, data):
    before = saved_state()
    upload = SimpleUploadedFile(name, content)
    response = world["client"].post(
        reverse("inspections:photos_add", args=[world["inspection"].code]),
        {**data, "photos": [upload]},
    )
    assert_no_server_error(response)
    assert not Photo.objects.exists()  # random bytes are never an image
    assert saved_state() == before


@FUZZ
@given(
    data=form_data(
        [
            "action",
            "visit_type",
            "internal_notes",
            "site_conditions",
            "time_used_minutes",
            "result",
            "failure_reason",
            "template",
            "granted_on",
            "description",
            "portion_of_building",
            "expires_on",
        ]
    )
)
def test_result_and_close_forms(world, data):
    client, code = world["client"], world["inspection"].code
    assert_no_server_error(client.post(reverse("occupancy:visit_result", args=[code]), data))
    confirmation = client.get(reverse("occupancy:visit_confirm", args=[code]))
    assert_no_server_error(confirmation)
    shown = confirmation.context["draft_fingerprint"] if confirmation.status_code == 200 else ""
    findings_before = saved_state()[0]
    close = reverse("occupancy:visit_close", args=[code])
    assert_no_server_error(client.post(close, {"draft_fingerprint": shown}))
    # The open deficiency refuses a full grant; anything else may close the visit, but the
    # findings recorded before are never changed by it.
    assert saved_state()[0] == findings_before


@FUZZ
@given(q=hostile_text, status=hostile_text, show=hostile_text, page=hostile_text)
def test_search(world, q, status, show, page):
    response = world["client"].get(
        reverse("permits:application_list"), {"q": q, "status": status, "show": show, "page": page}
    )
    assert response.status_code == 200


@pytest.fixture
def admin_client(admin_user):
    client = Client(raise_request_exception=True)
    client.force_login(admin_user)
    return client


@FUZZ
@given(body=hostile_text, name=hostile_text, stylesheet=hostile_text)
def test_template_admin_form_and_preview(admin_client, general_template, body, name, stylesheet):
    version = general_template.version
    data = {
        "municipality": general_template.municipality_id,
        "permit_type": general_template.permit_type_id,
        "name": name,
        "is_active": "on",
        "body": body,
        "stylesheet": stylesheet,
    }
    url = reverse("admin:occupancy_occupancypermittemplate_change", args=[general_template.pk])
    assert_no_server_error(admin_client.post(url, data))
    preview = reverse("admin:occupancy_occupancypermittemplate_preview")
    assert_no_server_error(admin_client.post(preview, data))
    general_template.refresh_from_db()
    assert general_template.version in (version, version + 1)


@FUZZ
@given(
    data=form_data(["name", "kind", "prefix", "number_format", "sequence_key", "restart_each_year"])
)
def test_permit_type_admin_form(admin_client, general_type, data):
    before = general_type.number_format
    data = {"municipality": general_type.municipality_id, **data}
    url = reverse("admin:occupancy_occupancypermittype_change", args=[general_type.pk])
    response = admin_client.post(url, data)
    assert_no_server_error(response)
    general_type.refresh_from_db()
    if response.status_code == 200:  # the form was refused: nothing changed
        assert general_type.number_format == before
