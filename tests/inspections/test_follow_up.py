"""Issue 13, deliverable 3: the matters a closed inspection left outstanding are resolved on a
follow-up visit. The inspection reopens for it without touching what was issued, the visit
records who resolved what and when, it never grants, and the application becomes Finished
when nothing is left."""

import datetime
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.models import Activity
from demo import builders
from inspections import rules, services
from inspections.exceptions import VisitError
from inspections.forms import VisitDraftForm
from inspections.models import (
    FailureReason,
    Finding,
    Inspection,
    InspectionStatus,
    Order,
    Visit,
    VisitResult,
    VisitStatus,
    VisitType,
)
from occupancy.exceptions import GrantRefused
from occupancy.models import ConditionMark, OccupancyCondition, OccupancyPermit
from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from permits.models import Application, ApplicationStatus
from tests.conftest import client_for
from tests.db_rows import media_files, rows
from tests.factories import make_finding, make_inspection, make_order
from tests.occupancy.conftest import pdf_text
from tests.occupancy.test_finish_and_close import confirm, finish
from tests.test_query_counts import queries

TODAY = timezone.localdate()


def grant(template) -> GrantDetails:
    """A grant on `template` with every condition of its checklist (if any) marked Met."""
    conditions = OccupancyCondition.objects.filter(permit_type=template.permit_type)
    return GrantDetails(
        template=template,
        granted_on=TODAY,
        description="Single dwelling",
        conditions={condition.pk: ConditionMark.MET for condition in conditions},
    )


def issue_with_outstanding_matters(inspection, inspector, template, *, comply_by=None):
    """Visit 1 of `inspection` closed "Granted, but outstanding matters" through the real
    service, leaving one deficiency and one order open."""
    visit = builders.visit(inspection=inspection, inspector=inspector)
    finding = make_finding(visit, inspector, description="Handrail missing on basement stairs")
    order = make_order(
        visit,
        inspector,
        issued_to="Jordan Smith, owner",
        description="Install the basement handrail.",
        comply_by=comply_by or TODAY + datetime.timedelta(days=30),
        findings=[finding],
    )
    outcome = visit_finish_and_close(
        visit=visit, actor=inspector, result=VisitResult.GRANTED_OUTSTANDING, grant=grant(template)
    )
    return SimpleNamespace(visit=outcome.visit, permit=outcome.permit, finding=finding, order=order)


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def granted(occupancy, inspector, general_template):
    return issue_with_outstanding_matters(occupancy, inspector, general_template)


def permit_as_issued():
    return rows(OccupancyPermit), media_files()


def start_follow_up(inspection, inspector) -> Visit:
    return services.visit_start_follow_up(inspection=inspection, actor=inspector)


def resolve_everything(visit, inspector, granted) -> None:
    services.finding_set_corrected(
        finding=granted.finding, visit=visit, actor=inspector, corrected=True
    )
    services.order_set_complied(order=granted.order, visit=visit, actor=inspector, complied=True)


def test_a_grant_with_outstanding_matters_leaves_the_application_occupied(granted, occupancy):
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.CLOSED
    assert Application.objects.get().status == ApplicationStatus.OCCUPIED
    assert granted.permit.number == f"OCC-{TODAY.year}-0001"


def test_follow_up_visit_reopens_the_closed_inspection_without_touching_the_permit(
    granted, occupancy, inspector
):
    issued = permit_as_issued()
    visit = start_follow_up(occupancy, inspector)
    assert (visit.sequence, visit.visit_type, visit.status) == (
        2,
        VisitType.FOLLOW_UP,
        VisitStatus.OPEN,
    )
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.FOLLOW_UP
    assert occupancy.get_status_display() == "Follow-up of outstanding matters"
    assert permit_as_issued()[0] == issued[0]
    assert Application.objects.get().status == ApplicationStatus.OCCUPIED
    assert Activity.objects.filter(verb="follow_up_started").get().summary == (
        "Occupancy: follow-up visit 2 started for 1 deficiency and 1 order outstanding"
    )
    # The carried-over matters are the ones the follow-up visit shows with their buttons.
    assert list(rules.outstanding_findings(visit)) == [granted.finding]
    assert list(rules.outstanding_orders(visit)) == [granted.order]


@pytest.mark.parametrize(
    "situation, message",
    [
        (
            "already following up",
            "A follow-up visit is already open on this inspection; continue it below.",
        ),
        (
            "nothing outstanding",
            "Nothing is outstanding on this inspection: no follow-up is needed.",
        ),
        ("not closed", "Only a closed inspection is followed up: start a new visit instead."),
    ],
)
def test_follow_up_visit_is_refused_when_it_has_nothing_to_do(
    situation, message, occupancy, inspector, general_template, framing_type_a, application_a
):
    if situation == "already following up":
        issue_with_outstanding_matters(occupancy, inspector, general_template)
        start_follow_up(occupancy, inspector)
    elif situation == "nothing outstanding":
        visit = builders.visit(inspection=occupancy, inspector=inspector)
        visit_finish_and_close(
            visit=visit,
            actor=inspector,
            result=VisitResult.GRANTED_FULL,
            grant=grant(general_template),
        )
    else:
        visit = builders.visit(inspection=occupancy, inspector=inspector, result="failed")
        make_order(visit, inspector)
        Inspection.objects.filter(pk=occupancy.pk).update(status=InspectionStatus.REVISIT_REQUIRED)
    before = rows(Visit, Inspection, Activity)
    with pytest.raises(VisitError) as refused:
        start_follow_up(occupancy, inspector)
    assert str(refused.value) == message
    assert rows(Visit, Inspection, Activity) == before


def test_matters_resolved_on_the_follow_up_close_the_inspection_and_finish_the_application(
    granted, occupancy, inspector
):
    issued = permit_as_issued()
    visit = start_follow_up(occupancy, inspector)
    resolve_everything(visit, inspector, granted)
    outcome = visit_finish_and_close(visit=visit, actor=inspector, result=VisitResult.PASSED)
    assert outcome.permit is None
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.CLOSED
    # Who resolved each matter, and when: the follow-up visit that marked it, now closed.
    for matter, field in (
        (granted.finding, "corrected_on_visit"),
        (granted.order, "complied_on_visit"),
    ):
        matter.refresh_from_db()
        resolved_on = getattr(matter, field)
        assert (resolved_on, resolved_on.status, resolved_on.closed_by) == (
            visit,
            VisitStatus.CLOSED,
            inspector,
        )
        assert resolved_on.closed_at is not None
    # What the close recorded (the applicant's e-mail, sent by its job once the report is
    # stored, records its own outcome after it).
    verbs = list(
        Activity.objects.exclude(verb__startswith="delivery_")
        .order_by("id")
        .values_list("verb", "summary")
    )
    assert (
        "finding_corrected",
        "Deficiency corrected: Handrail missing on basement stairs",
    ) in verbs
    assert (
        "order_complied",
        "Order to Comply issued to Jordan Smith, owner complied with",
    ) in verbs
    assert (
        "visit_closed",
        "Occupancy: visit 2 closed, Passed (follow-up: 2 resolved, 0 still outstanding)",
    ) in verbs
    # The permit is as issued (row, snapshot, PDF); only new files were written.
    issued_rows, issued_files = issued
    assert rows(OccupancyPermit) == issued_rows
    assert set(issued_files) <= set(media_files())
    application = Application.objects.get()
    assert application.status == ApplicationStatus.FINISHED
    assert application.completed_on == TODAY
    assert verbs[-1] == (
        "status_changed",
        "Status Occupied → Finished: the last outstanding matter was resolved on Occupancy visit 2",
    )
    report = pdf_text(Visit.objects.get(pk=outcome.visit.pk).report_pdf.read())
    assert "Occupancy, visit 2 (Follow-up of outstanding matters)" in report
    assert "Result: Passed" in report
    assert "Deficiencies from earlier visits corrected on this visit" in report
    assert "Orders from earlier visits complied with on this visit" in report
    assert (
        "Order to Comply issued to Jordan Smith, owner — Install the basement handrail." in report
    )


def test_follow_up_passes_only_when_every_matter_is_resolved(granted, occupancy, inspector):
    visit = start_follow_up(occupancy, inspector)
    services.order_set_complied(order=granted.order, visit=visit, actor=inspector, complied=True)
    with pytest.raises(GrantRefused) as refused:
        visit_finish_and_close(visit=visit, actor=inspector, result=VisitResult.PASSED)
    assert refused.value.refusals == {
        "result": "A follow-up visit passes only when every matter is resolved (1 deficiency "
        "and 0 orders still outstanding): mark them corrected or complied with, or choose "
        "Failed to keep them open."
    }
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.OPEN


def test_a_failed_follow_up_keeps_the_rest_open_for_another(granted, occupancy, inspector):
    visit = start_follow_up(occupancy, inspector)
    services.order_set_complied(order=granted.order, visit=visit, actor=inspector, complied=True)
    visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result=VisitResult.FAILED,
        failure_reason=FailureReason.DEFICIENCIES,
    )
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.CLOSED  # not "new visit required": it passed
    assert Application.objects.get().status == ApplicationStatus.OCCUPIED
    granted.finding.refresh_from_db()
    assert granted.finding.is_outstanding
    again = start_follow_up(occupancy, inspector)
    assert list(rules.outstanding_findings(again)) == [granted.finding]
    assert list(rules.outstanding_orders(again)) == []


def test_failed_is_refused_on_a_follow_up_that_resolved_everything(granted, occupancy, inspector):
    visit = start_follow_up(occupancy, inspector)
    resolve_everything(visit, inspector, granted)
    with pytest.raises(GrantRefused) as refused:
        visit_finish_and_close(
            visit=visit,
            actor=inspector,
            result=VisitResult.FAILED,
            failure_reason=FailureReason.DEFICIENCIES,
        )
    assert refused.value.refusals == {
        "result": "Every outstanding matter is resolved: choose Passed."
    }


@pytest.mark.parametrize("result", [VisitResult.GRANTED_FULL, VisitResult.GRANTED_OUTSTANDING])
def test_a_follow_up_visit_never_issues_a_permit(
    result, granted, occupancy, inspector, general_template
):
    visit = start_follow_up(occupancy, inspector)
    resolve_everything(visit, inspector, granted)
    before = rows(OccupancyPermit, Visit, Inspection, Application), media_files()
    with pytest.raises(GrantRefused) as refused:
        visit_finish_and_close(
            visit=visit, actor=inspector, result=result, grant=grant(general_template)
        )
    assert refused.value.refusals == {"result": rules.FOLLOW_UP_GRANT_REFUSAL}
    assert (rows(OccupancyPermit, Visit, Inspection, Application), media_files()) == before
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(
            status=VisitStatus.CLOSED, result=result, closed_by=inspector, closed_at=timezone.now()
        )


def test_the_type_of_a_follow_up_visit_is_fixed(granted, occupancy, inspector):
    visit = start_follow_up(occupancy, inspector)
    follow_up = [(VisitType.FOLLOW_UP.value, "Follow-up of outstanding matters")]
    assert list(VisitDraftForm(instance=visit).fields["visit_type"].choices) == follow_up
    services.visit_save_draft(
        visit=visit,
        actor=inspector,
        visit_type=VisitType.ON_SITE,
        internal_notes="",
        site_conditions="",
        time_used_minutes=None,
    )
    assert Visit.objects.get(pk=visit.pk).visit_type == VisitType.FOLLOW_UP
    # And no ordinary visit becomes one.
    ordinary = builders.visit(
        inspection=make_inspection(occupancy.application, occupancy.inspection_type),
        inspector=inspector,
    )
    choices = [value for value, _ in VisitDraftForm(instance=ordinary).fields["visit_type"].choices]
    assert choices == [VisitType.ON_SITE, VisitType.COMMUNICATION_ONLY]
    services.visit_save_draft(
        visit=ordinary,
        actor=inspector,
        visit_type=VisitType.FOLLOW_UP,
        internal_notes="",
        site_conditions="",
        time_used_minutes=None,
    )
    assert Visit.objects.get(pk=ordinary.pk).visit_type == VisitType.ON_SITE


def test_the_application_stays_occupied_while_an_inspection_is_pending(
    granted, occupancy, inspector, application_a, framing_type_a
):
    make_inspection(application_a, framing_type_a)  # not started yet
    visit = start_follow_up(occupancy, inspector)
    resolve_everything(visit, inspector, granted)
    visit_finish_and_close(visit=visit, actor=inspector, result=VisitResult.PASSED)
    assert Application.objects.get().status == ApplicationStatus.OCCUPIED


def test_the_application_stays_occupied_while_another_inspection_has_an_open_order(
    granted, occupancy, inspector, application_a, framing_type_a
):
    framing = make_inspection(application_a, framing_type_a, status=InspectionStatus.CLOSED)
    make_order(builders.visit(inspection=framing, inspector=inspector, result="passed"), inspector)
    visit = start_follow_up(occupancy, inspector)
    resolve_everything(visit, inspector, granted)
    visit_finish_and_close(visit=visit, actor=inspector, result=VisitResult.PASSED)
    assert Application.objects.get().status == ApplicationStatus.OCCUPIED
    # Its own follow-up resolves the last one.
    framing_follow_up = start_follow_up(framing, inspector)
    services.order_set_complied(
        order=Order.objects.get(visit__inspection=framing),
        visit=framing_follow_up,
        actor=inspector,
        complied=True,
    )
    visit_finish_and_close(visit=framing_follow_up, actor=inspector, result=VisitResult.PASSED)
    application = Application.objects.get()
    assert application.status == ApplicationStatus.FINISHED
    last = application.activities.exclude(verb__startswith="delivery_").order_by("-id").first()
    assert last.summary == (
        "Status Occupied → Finished: the last outstanding matter was resolved on Framing visit 2"
    )


def test_closed_inspection_page_query_count_does_not_grow_with_outstanding_matters(
    granted, occupancy, inspector
):
    client = client_for(inspector)
    path = occupancy.get_absolute_url()
    one = queries(client, path)
    first = Visit.objects.get(inspection=occupancy, sequence=1)
    for n in range(20):
        make_finding(first, inspector, description=f"Deficiency {n}")
        make_order(first, inspector, issued_to=f"Trade {n}")
    assert len(client.get(path).context["follow_up_orders"]) == 21
    assert queries(client, path) == one


# Through HTTP, as the inspector does it.


def test_the_closed_inspection_offers_a_follow_up_to_an_inspector_only(
    granted, occupancy, inspector, clerk
):
    page = client_for(inspector).get(occupancy.get_absolute_url()).content.decode()
    assert "Start follow-up visit" in page
    assert "1 deficiency and 1 order recorded on it are still open" in page
    assert "Handrail missing on basement stairs" in page
    assert "Order to Comply</strong> issued to Jordan Smith, owner on visit 1" in page
    page = client_for(clerk).get(occupancy.get_absolute_url()).content.decode()
    assert "Start follow-up visit" not in page
    assert "Starting a follow-up visit is for inspectors." in page


def test_inspector_resolves_the_matters_on_a_follow_up_visit(granted, occupancy, inspector):
    client = client_for(inspector)
    response = client.post(
        reverse("inspections:visit_start_follow_up", args=[occupancy.code]), follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Follow-up visit 2 started: mark each matter corrected or complied with, then Finish "
        "and Close."
    ]
    page = response.content.decode()
    assert "Visit 2 is open" in page
    assert "Mark corrected" in page and "Mark complied with" in page
    result_form = response.context["result_form"]
    assert list(result_form.fields["result"].choices) == [
        ("passed", "Passed: every outstanding matter is resolved"),
        ("failed", "Failed: matters are still outstanding"),
    ]
    assert "template" not in result_form.fields  # nothing to issue
    client.post(
        reverse("inspections:finding_corrected", args=[granted.finding.code]), {"corrected": "1"}
    )
    client.post(reverse("inspections:order_complied", args=[granted.order.code]), {"complied": "1"})
    data = {
        "action": "finish",
        "visit_type": VisitType.FOLLOW_UP,
        "result": "passed",
        "failure_reason": "",
    }
    response = finish(client, occupancy, data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Passed: every outstanding matter is resolved" in page
    response = confirm(client, occupancy)
    assert response.status_code == 200
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.CLOSED
    assert Application.objects.get().status == ApplicationStatus.FINISHED
    assert OccupancyPermit.objects.count() == 1
    page = response.content.decode()
    assert "Start follow-up visit" not in page
    assert "2 · Follow-up of outstanding matters" in page  # All visits


def test_a_grant_posted_on_a_follow_up_visit_is_refused_at_the_result(
    granted, occupancy, inspector, general_template
):
    start_follow_up(occupancy, inspector)
    response = finish(
        client_for(inspector),
        occupancy,
        {
            "action": "finish",
            "visit_type": VisitType.FOLLOW_UP,
            "result": "granted_full",
            "template": general_template.pk,
            "granted_on": TODAY.isoformat(),
            "description": "Single dwelling",
        },
    )
    assert response.status_code == 400
    assert response.context["result_form"].errors["result"] == [
        "Select a valid choice. granted_full is not one of the available choices."
    ]
    assert OccupancyPermit.objects.count() == 1


def test_finding_and_order_marking_is_for_the_follow_up_visit_only(granted, occupancy, inspector):
    # Before a follow-up visit is started there is no open visit to mark them on.
    response = client_for(inspector).post(
        reverse("inspections:finding_corrected", args=[granted.finding.code]),
        {"corrected": "1"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "This inspection has no open visit: start a new visit first."
    ]
    assert Finding.objects.get(pk=granted.finding.pk).corrected_on_visit is None


def test_the_report_of_a_visit_is_kept_when_a_follow_up_starts(granted, occupancy, inspector):
    first_report = Visit.objects.get(sequence=1).report_pdf.read()
    start_follow_up(occupancy, inspector)
    response = client_for(inspector).get(
        reverse("inspections:visit_report", args=[occupancy.code, 1])
    )
    assert b"".join(response.streaming_content) == first_report
