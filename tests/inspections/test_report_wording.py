"""Issue 13, deliverable 6: the inspection report lists each matter once, whether it was
recorded on the visit, carried over from an earlier one or resolved on it, and writes every
date one way."""

import re

import pytest
from django.utils import timezone

from inspections import services
from inspections.models import FailureReason, OrderType, Visit, VisitResult
from occupancy.services import visit_finish_and_close
from tests.factories import make_finding, make_inspection, make_order
from tests.occupancy.conftest import pdf_text
from tests.occupancy.test_permit_wording import OTHER_DATE_STYLES, WORDED_DATE, worded

TODAY = timezone.localdate()
GUARD = "Guard too low on the rear deck"
PAINT = "Paint touch-ups on the stair stringer"
FIRE_STOP = "Fire stopping missing at the plumbing stack"
RAISE_GUARD = "Raise the rear deck guard to 1070 mm."


def close(visit, inspector, result=VisitResult.FAILED) -> str:
    """Finish and Close the visit; the text of its inspection report."""
    reason = FailureReason.DEFICIENCIES if result == VisitResult.FAILED else ""
    outcome = visit_finish_and_close(
        visit=visit, actor=inspector, result=result, failure_reason=reason
    )
    # Stored by its job right after the close (at once in tests).
    return pdf_text(Visit.objects.get(pk=outcome.visit.pk).report_pdf.read())


@pytest.fixture
def framing(application_a, framing_type_a):
    return make_inspection(application_a, framing_type_a)


@pytest.fixture
def first_report(framing, inspector):
    """Visit 1: a deficiency, a remark and an order concerning the deficiency (no comply-by
    date), closed Failed."""
    visit = services.visit_start(inspection=framing, actor=inspector)
    guard = make_finding(visit, inspector, description=GUARD)
    make_finding(visit, inspector, description=PAINT, is_remark=True)
    make_order(
        visit,
        inspector,
        order_type=OrderType.ORDER_TO_COMPLY,
        issued_to="Jordan Smith, owner, 905-555-0101",
        description=RAISE_GUARD,
        comply_by=None,
        findings=[guard],
    )
    return close(visit, inspector)


def test_first_visit_report_lists_each_matter_recorded_on_it_once(first_report):
    text = first_report
    assert text.count(GUARD) == 1
    assert text.count(PAINT) == 1
    assert text.count(RAISE_GUARD) == 1
    assert "Outstanding after this visit: 1 deficiency and 1 order, each listed below once." in (
        text
    )
    assert "outstanding until a later visit marks it corrected" in text
    # The report is the order's record: its recipient as typed, contact included.
    order = f"issued to Jordan Smith, owner, 905-555-0101, no comply-by date set — {RAISE_GUARD}"
    assert order in text
    assert "(concerning deficiency 1)" in text
    assert "Deficiencies from earlier visits still outstanding" not in text
    assert "Orders from earlier visits not yet complied with" not in text


def test_second_visit_report_lists_a_carried_over_matter_once(first_report, framing, inspector):
    visit = services.visit_start(inspection=framing, actor=inspector)
    make_finding(visit, inspector, description=FIRE_STOP)
    text = close(visit, inspector)
    assert (text.count(GUARD), text.count(FIRE_STOP), text.count(RAISE_GUARD)) == (1, 1, 1)
    assert PAINT not in text  # a remark of an earlier visit is not outstanding
    assert "Outstanding after this visit: 2 deficiencies and 1 order" in text
    assert "Deficiencies from earlier visits still outstanding" in text
    assert "Orders from earlier visits not yet complied with" in text
    assert "No order issued on this visit." in text


def test_report_of_the_visit_that_resolves_everything_lists_each_matter_once(
    first_report, framing, inspector
):
    visit = services.visit_start(inspection=framing, actor=inspector)
    guard = framing.visits.get(sequence=1).findings.get(is_remark=False)
    order = framing.visits.get(sequence=1).orders.get()
    services.finding_set_corrected(finding=guard, visit=visit, actor=inspector, corrected=True)
    services.order_set_complied(order=order, visit=visit, actor=inspector, complied=True)
    text = close(visit, inspector, result=VisitResult.PASSED)
    assert (text.count(GUARD), text.count(RAISE_GUARD)) == (1, 1)
    assert "Nothing is outstanding after this visit." in text
    assert "Deficiencies from earlier visits corrected on this visit" in text
    assert "Orders from earlier visits complied with on this visit" in text


def test_every_date_of_the_report_is_written_one_way(first_report):
    for style, pattern in OTHER_DATE_STYLES.items():
        assert not pattern.findall(first_report), f"{style}: {pattern.findall(first_report)}"
    assert set(WORDED_DATE.findall(first_report)) == {worded(TODAY)}
    assert re.search(rf"Closed {worded(TODAY)} at \d\d:\d\d", first_report)
