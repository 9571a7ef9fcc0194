"""Issue 13, deliverable 6: a permit a lawyer can read. Each outstanding matter says what it
requires and who must complete it (an order's recipient, the owner for a deficiency), a
missing comply-by date says so in words, no personal phone number is printed, and every
date of the permit is written one way."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from demo import builders
from inspections.models import OrderType, VisitResult
from occupancy.defaults import TEMPLATE_DIR, default_template
from occupancy.models import ConditionMark, OccupancyCondition, OccupancyPermit, PermitKind
from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from occupancy.snapshot import PermitSnapshot
from occupancy.template_validation import validate_template_body
from tests.conftest import client_for
from tests.factories import make_finding, make_order
from tests.occupancy.conftest import pdf_text
from tests.occupancy.test_finish_and_close import confirm, finish, grant_data

TODAY = timezone.localdate()
COMPLY_BY = TODAY + datetime.timedelta(days=30)
MONTHS = (
    "January February March April May June July August September October November December"
).split()
# "December 1, 2026": the one style of the permit (Django's "F j, Y").
WORDED_DATE = re.compile(rf"\b(?:{'|'.join(MONTHS)}) \d{{1,2}}, \d{{4}}\b")
OTHER_DATE_STYLES = {
    "ISO": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "numeric": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}\.\d{1,2}\.\d{4}\b"),
    "abbreviated month": re.compile(
        r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.? \d{1,2},? \d{4}\b"
    ),
    "day first": re.compile(rf"\b\d{{1,2}} (?:{'|'.join(MONTHS)}),? \d{{4}}\b"),
}


def worded(day: datetime.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


@pytest.fixture
def temporary_template(municipality_a):
    permit_type = builders.permit_type(
        municipality=municipality_a,
        name="Temporary",
        kind=PermitKind.TEMPORARY,
        needs_expiry_date=True,
    )
    return builders.permit_template(
        permit_type=permit_type, name="Temporary occupancy permit", filename="temporary.html"
    )


@pytest.fixture
def templates(general_template, partial_template, temporary_template):
    return {
        "general": general_template,
        "partial": partial_template,
        "temporary": temporary_template,
    }


def issue(*, visit, inspector, template):
    """Grant on `visit` with `template`, outstanding matters printed, checklist all Met."""
    conditions = OccupancyCondition.objects.filter(permit_type=template.permit_type)
    permit_type = template.permit_type
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result=VisitResult.GRANTED_OUTSTANDING,
        grant=GrantDetails(
            template=template,
            granted_on=TODAY,
            description="Single detached dwelling.",
            portion_of_building="Ground floor" if permit_type.needs_portion_of_building else "",
            expires_on=TODAY + datetime.timedelta(days=90)
            if permit_type.needs_expiry_date
            else None,
            conditions={c.pk: ConditionMark.MET for c in conditions},
        ),
    ).permit


@pytest.fixture
def matters(open_visit, inspector, municipality_a):
    """A deficiency (which has no comply-by date), an order to the owner typed with her phone
    number, and an order without a comply-by date; the municipality has an office phone."""
    municipality_a.phone = "905-555-1000"
    municipality_a.save(update_fields=["phone"])
    make_finding(open_visit, inspector, description="Exterior stairs need a second handrail")
    make_order(
        open_visit,
        inspector,
        order_type=OrderType.ORDER_TO_COMPLY,
        issued_to="Jordan Smith, owner, 905-555-0101",
        description="Complete the final grading away from the foundation.",
        comply_by=COMPLY_BY,
    )
    make_order(
        open_visit,
        inspector,
        order_type=OrderType.ORDER_NOT_TO_COVER,
        issued_to="Casey Builder Ltd., contractor, (416) 555-0199 ext. 12",
        description="Do not cover the basement insulation until it is inspected.",
        comply_by=None,
    )
    return open_visit


@pytest.mark.parametrize("kind", ["general", "partial", "temporary"])
def test_permit_prints_what_each_order_requires_and_to_whom_without_phone_numbers(
    kind, matters, inspector, templates
):
    permit = issue(visit=matters, inspector=inspector, template=templates[kind])
    text = pdf_text(permit.pdf.read())
    for expected in [
        "To be completed by",
        "What is required",
        "Order to Comply",
        "Complete the final grading away from the foundation.",
        "Jordan Smith, owner",
        "Order Not to Cover",
        "Do not cover the basement insulation until it is inspected.",
        "Casey Builder Ltd., contractor",
        "Exterior stairs need a second handrail",
        "The owner",
        "Tel. 905-555-1000",  # the municipality's office stays
    ]:
        assert expected in text, expected
    for personal in ["905-555-0101", "555-0101", "(416)", "555-0199", "ext. 12"]:
        assert personal not in text, personal
    assert "must be completed by the owner" not in text
    assert "Each must be completed by the person named for it" in text


@pytest.mark.parametrize("kind", ["general", "partial", "temporary"])
def test_permit_says_no_date_set_for_a_deficiency_and_an_order_without_comply_by_date(
    kind, matters, inspector, templates
):
    permit = issue(visit=matters, inspector=inspector, template=templates[kind])
    text = pdf_text(permit.pdf.read())
    # The deficiency and the Order Not to Cover have none; the Order to Comply has its date.
    assert text.count("No date set") == 2
    assert worded(COMPLY_BY) in text
    table = text[text.index("What is required") : text.upper().index("INSPECTED BY")]
    assert "—" not in table  # words, not a dash


@pytest.mark.parametrize("kind", ["general", "partial", "temporary"])
def test_every_date_of_the_permit_is_written_one_way(kind, matters, inspector, templates):
    permit = issue(visit=matters, inspector=inspector, template=templates[kind])
    text = pdf_text(permit.pdf.read())
    for style, pattern in OTHER_DATE_STYLES.items():
        assert not pattern.findall(text), f"{style} date in the permit: {pattern.findall(text)}"
    dates = set(WORDED_DATE.findall(text))
    # Granted, noted, issued and closed are today; the order's comply-by date; the expiry.
    expected = {worded(TODAY), worded(COMPLY_BY)}
    if kind == "temporary":
        expected.add(worded(TODAY + datetime.timedelta(days=90)))
    assert dates == expected


def test_snapshot_names_who_must_complete_each_matter(matters, inspector, general_template):
    permit = issue(visit=matters, inspector=inspector, template=general_template)
    snapshot = PermitSnapshot.from_json(permit.snapshot)
    assert [
        (m.kind, m.order_type_label, m.responsible, m.issued_to, m.comply_by)
        for m in snapshot.outstanding_matters
    ] == [
        ("Deficiency", "", "The owner", "", None),
        ("Order", "Order to Comply", "Jordan Smith, owner", "Jordan Smith, owner", COMPLY_BY),
        (
            "Order",
            "Order Not to Cover",
            "Casey Builder Ltd., contractor",
            "Casey Builder Ltd., contractor",
            None,
        ),
    ]
    assert snapshot.outstanding_matters[2].requirement == (
        "Do not cover the basement insulation until it is inspected."
    )
    assert snapshot.outstanding_matters[2].description == (
        "Order Not to Cover issued to Casey Builder Ltd., contractor: Do not cover the "
        "basement insulation until it is inspected."
    )


def test_an_order_issued_to_a_phone_number_only_still_names_its_recipient(
    open_visit, inspector, general_template
):
    make_order(open_visit, inspector, issued_to="905-555-0101", description="Grade the lot.")
    permit = issue(visit=open_visit, inspector=inspector, template=general_template)
    (matter,) = PermitSnapshot.from_json(permit.snapshot).outstanding_matters
    assert (matter.issued_to, matter.responsible) == ("", "The person named in the order")
    text = pdf_text(permit.pdf.read())
    assert "The person named in the order" in text
    assert "905-555-0101" not in text


@pytest.mark.parametrize("filename", sorted(p.name for p in TEMPLATE_DIR.glob("*.html")))
def test_default_templates_validate(filename):
    validate_template_body(default_template(filename).body)


def test_confirmation_page_shows_what_each_order_requires_and_who_completes_it(
    matters, inspector, general_template
):
    client = client_for(inspector)
    finish(client, matters.inspection, grant_data(general_template, result="granted_outstanding"))
    page = client.get(reverse("occupancy:visit_confirm", args=[matters.inspection.code]))
    html = page.content.decode()
    cells = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    rows = [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells.findall(row)]
        for row in re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>", 1)[1], re.S)
    ]
    noted = f"Deficiency Noted {TODAY:%Y-%m-%d}"
    assert rows == [
        [noted, "Exterior stairs need a second handrail", "The owner", "No date set"],
        [
            "Order to Comply",
            "Complete the final grading away from the foundation.",
            "Jordan Smith, owner",
            f"{COMPLY_BY:%Y-%m-%d}",
        ],
        [
            "Order Not to Cover",
            "Do not cover the basement insulation until it is inspected.",
            "Casey Builder Ltd., contractor",
            "No date set",
        ],
    ]
    assert "905-555-0101" not in html
    # What the page shows is what is issued: the close goes through with its fingerprint.
    confirm(client, matters.inspection)
    permit = OccupancyPermit.objects.get()
    assert [m["requirement"] for m in permit.snapshot["outstanding_matters"]] == [
        row[1] for row in rows
    ]
