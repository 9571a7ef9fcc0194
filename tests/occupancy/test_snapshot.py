"""The issued permit's snapshot schema: a real Finish and Close and the preview's sample have
one shape, stored snapshots carry their version, old ones still render, and the variables
documented to administrators are the schema's."""

import dataclasses
import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from inspections.models import OrderType
from occupancy.checklists import HOUSE, permit_type_seed_checklist
from occupancy.documents import render_permit_html, render_permit_pdf, template_context
from occupancy.models import OccupancyPermit
from occupancy.snapshot import (
    SCHEMA_VERSION,
    OutstandingMatter,
    PermitSnapshot,
    SnapshotError,
)
from occupancy.template_validation import ITEM_ATTRIBUTES, VARIABLES, validate_template_body
from tests.conftest import client_for
from tests.factories import make_finding, make_order
from tests.occupancy.conftest import pdf_text
from tests.occupancy.test_finish_and_close import confirm, finish, grant_data

TODAY = timezone.localdate()


def french(text: str, *, context: str = "") -> str:
    """`text` as the French catalogue has it (the English until it is translated)."""
    with translation.override("fr-ca"):
        return pgettext(context, text) if context else gettext(text)


@pytest.fixture
def issued(inspector, occupancy, open_visit, general_template) -> OccupancyPermit:
    """A permit issued by a real Finish and Close, with one deficiency and one order open (its
    recipient typed with a phone number) and the Code's checklist of a house verified (one
    condition not applicable)."""
    permit_type_seed_checklist(permit_type=general_template.permit_type)
    conditions = list(general_template.permit_type.conditions.order_by("display_order"))
    marks = {f"condition_{c.pk}": "met" for c in conditions}
    marks[f"condition_{conditions[-1].pk}"] = "not_applicable"
    make_finding(open_visit, inspector, description="Exterior stairs need a second handrail")
    make_order(
        open_visit,
        inspector,
        order_type=OrderType.ORDER_TO_COMPLY,
        issued_to="Jordan Smith, owner, 905-555-0101",
        description="Complete the final grading",
        comply_by=TODAY + datetime.timedelta(days=30),
    )
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template, result="granted_outstanding", **marks))
    confirm(client, occupancy)
    return OccupancyPermit.objects.get()


def shape(value):
    """The keys of a JSON value at every level; a list by the shapes of its items."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None


def test_issued_snapshot_and_sample_have_the_same_keys_at_every_level(issued, general_type):
    sample = PermitSnapshot.sample(
        permit_type=general_type, municipality=general_type.municipality
    ).to_json()
    assert shape(issued.snapshot) == shape(sample)
    assert len(issued.snapshot["outstanding_matters"]) == 2  # the items were compared too


def test_issued_snapshot_carries_its_schema_version_and_what_the_permit_prints(issued):
    snapshot = issued.snapshot
    assert snapshot["schema_version"] == SCHEMA_VERSION == 4
    assert snapshot["permit"]["number"] == issued.number
    assert snapshot["permit"]["granted_on"] == TODAY.isoformat()
    assert snapshot["permit"]["expires_on"] is None
    assert snapshot["permit"]["result_label"] == "Granted, but outstanding matters"
    assert snapshot["permit"]["language"] == issued.language == "en-ca"
    assert snapshot["permit"]["issued_at"] == snapshot["visit"]["closed_at"]
    assert snapshot["application"]["work_type_label"] == "New construction"
    assert snapshot["outstanding_matters"] == [
        {
            "kind": "Deficiency",
            "order_type_label": "",
            "description": "Exterior stairs need a second handrail",
            "requirement": "Exterior stairs need a second handrail",
            "discovery_date": TODAY.isoformat(),
            "comply_by": None,
            "issued_to": "",
            "responsible": "The owner",
            # The French labels, for a bilingual permit's French text.
            "kind_fr": french("Deficiency", context="outstanding matter"),
            "order_type_label_fr": "",
            "description_fr": "Exterior stairs need a second handrail",
            "responsible_fr": french("The owner"),
        },
        {
            "kind": "Order",
            "order_type_label": "Order to Comply",
            "description": "Order to Comply issued to Jordan Smith, owner: "
            "Complete the final grading",
            "requirement": "Complete the final grading",
            "discovery_date": None,
            "comply_by": (TODAY + datetime.timedelta(days=30)).isoformat(),
            "issued_to": "Jordan Smith, owner",
            "responsible": "Jordan Smith, owner",
            "kind_fr": french("Order", context="outstanding matter"),
            "order_type_label_fr": french("Order to Comply"),
            "description_fr": french("%(order_type)s issued to %(recipient)s: %(requirement)s")
            % {
                "order_type": french("Order to Comply"),
                "recipient": "Jordan Smith, owner",
                "requirement": "Complete the final grading",
            },
            "responsible_fr": "Jordan Smith, owner",
        },
    ]
    assert "905-555-0101" not in json.dumps(snapshot)
    assert snapshot["conditions"][0] == {
        "clause": HOUSE[0][0],
        "text": HOUSE[0][1],
        "mark": "met",
        "mark_label": "Met",
        "mark_label_fr": french("Met"),
    }
    assert [c["mark_label"] for c in snapshot["conditions"]] == ["Met"] * (len(HOUSE) - 1) + [
        "Not applicable"
    ]


def test_snapshot_round_trips_through_its_stored_json(issued, general_type):
    stored = PermitSnapshot.from_json(issued.snapshot)
    assert stored.to_json() == issued.snapshot
    assert stored.permit.granted_on == TODAY
    assert stored.outstanding_matters[1].comply_by == TODAY + datetime.timedelta(days=30)
    sample = PermitSnapshot.sample(permit_type=general_type, municipality=general_type.municipality)
    assert PermitSnapshot.from_json(sample.to_json()) == sample


VERSION_4_ONLY = {
    "permit": {"language", "kind_label_fr", "result_label_fr"},
    "application": {"work_type_label_fr"},
    "outstanding_matters": {"kind_fr", "order_type_label_fr", "description_fr", "responsible_fr"},
    "conditions": {"mark_label_fr"},
}


def as_version_3(snapshot: dict) -> dict:
    """A stored snapshot as version 3 stored it: no language, no French labels."""
    old = dict(snapshot, schema_version=3)
    for key, names in VERSION_4_ONLY.items():
        if isinstance(old[key], list):
            old[key] = [{k: v for k, v in item.items() if k not in names} for item in old[key]]
        else:
            old[key] = {k: v for k, v in old[key].items() if k not in names}
    return old


def test_version_3_snapshot_reads_as_an_english_permit_and_renders_as_issued(issued):
    version_3 = as_version_3(issued.snapshot)
    read = PermitSnapshot.from_json(version_3)
    assert read.permit.language == "en-ca"
    assert (read.permit.kind_label_fr, read.application.work_type_label_fr) == ("", "")
    assert {m.kind_fr for m in read.outstanding_matters} == {""}
    assert {c.mark_label_fr for c in read.conditions} == {""}
    body = issued.template_version.body
    assert render_permit_html(body, template_context(version_3)) == render_permit_html(
        body, template_context(issued.snapshot)
    )


def test_version_1_snapshot_reads_without_checklist_and_renders_as_issued(issued):
    version_1 = {
        key: value
        for key, value in as_version_3(issued.snapshot).items()
        if key not in ("schema_version", "conditions", "verification")
    }
    version_2_only = {"order_type_label", "requirement", "issued_to", "responsible"}
    version_1["outstanding_matters"] = [
        {k: v for k, v in matter.items() if k not in version_2_only}
        for matter in version_1["outstanding_matters"]
    ]
    read = PermitSnapshot.from_json(version_1)
    assert read.conditions == ()
    assert [
        (m.order_type_label, m.requirement, m.issued_to, m.responsible)
        for m in read.outstanding_matters
    ] == [
        ("", "Exterior stairs need a second handrail", "", ""),
        ("", "Order to Comply issued to Jordan Smith, owner: Complete the final grading", "", ""),
    ]
    # A template of the first release never names the new keys: the same page as before.
    body = "{{ permit.number }}{% for m in outstanding_matters %}|{{ m.description }}{% endfor %}"
    assert render_permit_html(body, template_context(version_1)) == (
        f"{issued.number}|Exterior stairs need a second handrail|Order to Comply issued to "
        "Jordan Smith, owner: Complete the final grading"
    )


def test_snapshot_stored_before_versioning_still_renders_the_same(issued):
    old = {key: value for key, value in issued.snapshot.items() if key != "schema_version"}
    assert PermitSnapshot.from_json(old) == PermitSnapshot.from_json(issued.snapshot)
    body = issued.template_version.body
    html = render_permit_html(body, template_context(old))
    assert html == render_permit_html(body, template_context(issued.snapshot))
    text = pdf_text(render_permit_pdf(body=body, snapshot=old, municipality=issued.municipality))
    for expected in [issued.number, "Exterior stairs need a second handrail", "Town of Alpha"]:
        assert expected in text, expected


def test_template_sees_dates_and_local_times_and_no_schema_version(issued):
    context = template_context(issued.snapshot, logo_data_uri="data:image/png;base64,AAAA")
    assert "schema_version" not in context
    assert context["permit"]["granted_on"] == TODAY
    issued_at = context["permit"]["issued_at"]
    assert issued_at == issued.issued_at
    assert issued_at.tzinfo == timezone.get_current_timezone()
    assert context["outstanding_matters"][0]["discovery_date"] == TODAY
    assert context["municipality"]["logo_data_uri"] == "data:image/png;base64,AAAA"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s | {"schema_version": 5}, "Unknown snapshot schema version 5."),
        (
            lambda s: s | {"permit": {k: v for k, v in s["permit"].items() if k != "number"}},
            "permit lacks number.",
        ),
        (
            lambda s: s | {"visit": s["visit"] | {"weather": "rain"}},
            "visit has unknown weather.",
        ),
        (
            lambda s: s | {"outstanding_matters": [{"kind": "Deficiency", "description": "x"}]},
            "outstanding_matters[0] lacks order_type_label, requirement, discovery_date, "
            "comply_by, issued_to, responsible, kind_fr, order_type_label_fr, description_fr, "
            "responsible_fr.",
        ),
        (
            lambda s: s | {"permit": s["permit"] | {"granted_on": "yesterday"}},
            "permit.granted_on is not an ISO date: 'yesterday'",
        ),
    ],
)
def test_snapshot_of_an_unknown_shape_is_refused(issued, change, message):
    with pytest.raises(SnapshotError) as exc:
        PermitSnapshot.from_json(change(issued.snapshot))
    assert str(exc.value) == message


def test_documented_variables_cover_every_key_of_the_schema(general_type):
    stored = PermitSnapshot.sample(
        permit_type=general_type, municipality=general_type.municipality
    ).to_json()
    assert set(VARIABLES) == set(stored) - {"schema_version"}
    for name, (description, attributes) in VARIABLES.items():
        assert description
        if isinstance(stored[name], dict):
            render_time = {"municipality": {"logo_data_uri"}, "verification": {"qr_data_uri"}}
            render_time = render_time.get(name, set())
            assert set(attributes) == set(stored[name]) | render_time, name
            assert all(attributes.values()), name
        else:
            assert attributes == {}
            for item in stored[name]:
                assert set(ITEM_ATTRIBUTES[name]) == set(item)
    matter_fields = {f.name for f in dataclasses.fields(OutstandingMatter)}
    assert set(ITEM_ATTRIBUTES["outstanding_matters"]) == matter_fields
    for attribute in matter_fields:
        assert attribute in VARIABLES["outstanding_matters"][0]


def test_a_template_using_every_documented_variable_validates_and_renders(general_type):
    lines = [f"{{{{ {name}.{attr} }}}}" for name, (_, attrs) in VARIABLES.items() for attr in attrs]
    items = " ".join(f"{{{{ matter.{attr} }}}}" for attr in ITEM_ATTRIBUTES["outstanding_matters"])
    lines.append(f"{{% for matter in outstanding_matters %}}{items}{{% endfor %}}")
    body = "\n".join(lines)
    validate_template_body(body)
    snapshot = PermitSnapshot.sample(
        permit_type=general_type, municipality=general_type.municipality
    )
    html = render_permit_html(body, template_context(snapshot.to_json()))
    assert snapshot.permit.number in html and "Sample: Order to Comply" in html
    with pytest.raises(ValidationError, match="Unknown variable"):
        validate_template_body("{{ schema_version }}")


def test_template_page_lists_the_render_time_logo_and_the_outstanding_matter_attributes(
    admin_user, general_template
):
    url = reverse("admin:occupancy_occupancypermittemplate_change", args=[general_template.pk])
    html = client_for(admin_user).get(url).content.decode()
    assert "{{ municipality.logo_data_uri }}" in html
    assert "{{ permit.number }}" in html
    assert "comply_by: Date an order must be complied with" in html
