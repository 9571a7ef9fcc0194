"""Finish and Close Inspection, as the inspector does it: the result form, the confirmation
step, the permit and report PDFs, and the rules that must hold whatever happens."""

import datetime
import hashlib

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from inspections.models import InspectionStatus, Visit, VisitStatus
from occupancy.models import OccupancyPermit, PermitNumberSequence
from permits.models import ApplicationStatus
from tests.conftest import client_for
from tests.factories import make_finding, make_inspection, make_order
from tests.occupancy.conftest import pdf_text

TODAY = timezone.localdate()


def grant_data(permit_template, **extra):
    data = {
        "action": "finish",
        "visit_type": "on_site",
        "result": "granted_full",
        "failure_reason": "",
        "template": permit_template.pk,
        "granted_on": TODAY.isoformat(),
        "description": "Single detached dwelling, two storeys, with attached garage.",
        "portion_of_building": "",
        "expires_on": "",
    }
    data.update(extra)
    return data


def finish(client, inspection, data):
    return client.post(reverse("occupancy:visit_result", args=[inspection.code]), data)


def shown_fingerprint(client, inspection) -> str:
    """The fingerprint of the draft the confirmation page shows now ("" if it shows none)."""
    page = client.get(reverse("occupancy:visit_confirm", args=[inspection.code]))
    return page.context["draft_fingerprint"] if page.status_code == 200 else ""


def confirm(client, inspection, follow=True, fingerprint=None):
    """Yes, close the inspection, on the confirmation page opened now (or on one opened
    earlier that showed the draft with `fingerprint`)."""
    if fingerprint is None:
        fingerprint = shown_fingerprint(client, inspection)
    return client.post(
        reverse("occupancy:visit_close", args=[inspection.code]),
        {"draft_fingerprint": fingerprint},
        follow=follow,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_full_grant_issues_the_permit_with_its_pdf_and_report(
    inspector, occupancy, open_visit, general_template, application_a
):
    client = client_for(inspector)
    response = finish(client, occupancy, grant_data(general_template))
    assert response.status_code == 302
    assert response["Location"] == reverse("occupancy:visit_confirm", args=[occupancy.code])
    page = client.get(response["Location"]).content.decode()
    assert "Yes, close the inspection" in page
    assert "Granted and fully completed" in page
    assert not OccupancyPermit.objects.exists()  # nothing is issued before the confirmation

    response = confirm(client, occupancy)
    year = TODAY.year
    assert messages_of(response) == [f"Inspection closed. Occupancy permit OCC-{year}-0001 issued."]
    permit = OccupancyPermit.objects.get()
    assert (permit.number, permit.result, permit.issued_by) == (
        f"OCC-{year}-0001",
        "granted_full",
        inspector,
    )
    pdf = permit.pdf.read()
    assert hashlib.sha256(pdf).hexdigest() == permit.pdf_sha256
    text = pdf_text(pdf)
    for expected in [
        f"OCC-{year}-0001",
        "47 Maple Crescent",
        "2402 020 030 01500 0000",
        "Jordan Smith",
        "Single detached dwelling, two storeys, with attached garage.",
        "Town of Alpha",
        "Ada Byron",
    ]:
        assert expected in text, expected
    assert permit.snapshot["application"]["number"] == application_a.number
    assert permit.template_version.version == 1

    visit = Visit.objects.get(pk=open_visit.pk)
    assert (visit.status, visit.result, visit.closed_by) == ("closed", "granted_full", inspector)
    report = pdf_text(visit.report_pdf.read())
    assert "Inspection report" in report and f"OCC-{year}-0001" in report
    assert visit.inspection.status == InspectionStatus.CLOSED
    application_a.refresh_from_db()
    assert application_a.status == ApplicationStatus.OCCUPIED

    html = response.content.decode()
    assert f"Occupancy permit OCC-{year}-0001 (PDF)" in html  # under All visits
    pdf_url = reverse("occupancy:permit_pdf", args=["alpha", permit.number])
    work_view = client.get(application_a.get_absolute_url()).content.decode()
    assert pdf_url in work_view
    download = client.get(pdf_url)
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == pdf


def test_applicant_is_emailed_the_permit_after_commit(
    inspector, occupancy, open_visit, general_template, django_capture_on_commit_callbacks
):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, occupancy)
    permit = OccupancyPermit.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["priya@example.com"]
    assert [name for name, _, _ in message.attachments] == [
        f"{permit.number}.pdf",
        "inspection-report-visit-1.pdf",
    ]


def test_full_grant_is_refused_at_the_field_while_a_deficiency_is_outstanding(
    inspector, occupancy, open_visit, general_template
):
    make_finding(open_visit, inspector, description="Smoke alarm missing")
    response = finish(client_for(inspector), occupancy, grant_data(general_template))
    assert response.status_code == 400
    errors = response.context["result_form"].errors["result"]
    assert errors == [
        "Occupancy cannot be granted as fully completed while 1 deficiency and 0 orders are "
        "outstanding: choose Granted, but outstanding matters, or Not granted."
    ]
    assert errors[0] in response.content.decode()
    assert Visit.objects.get(pk=open_visit.pk).status == VisitStatus.OPEN


def test_grant_with_outstanding_matters_prints_them_on_the_permit(
    inspector, occupancy, open_visit, general_template
):
    make_finding(open_visit, inspector, description="Exterior stairs need a second handrail")
    make_finding(open_visit, inspector, description="Paint touch-ups", is_remark=True)
    make_order(open_visit, inspector, description="Complete the final grading")
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template, result="granted_outstanding"))
    confirm(client, occupancy)
    permit = OccupancyPermit.objects.get()
    text = pdf_text(permit.pdf.read())
    assert "Exterior stairs need a second handrail" in text
    assert "Complete the final grading" in text
    assert "Paint touch-ups" not in text  # a remark is not an outstanding matter
    assert [m["kind"] for m in permit.snapshot["outstanding_matters"]] == ["Deficiency", "Order"]


def test_grant_with_outstanding_matters_needs_one(
    inspector, occupancy, open_visit, general_template
):
    response = finish(
        client_for(inspector), occupancy, grant_data(general_template, result="granted_outstanding")
    )
    assert response.status_code == 400
    assert (
        "needs at least one outstanding deficiency or order"
        in (response.context["result_form"].errors["result"][0])
    )


def test_grant_fields_are_required_and_the_date_not_in_the_future(
    inspector, occupancy, open_visit, general_template
):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = finish(
        client_for(inspector),
        occupancy,
        grant_data(general_template, template="", description=" ", granted_on=tomorrow),
    )
    assert response.status_code == 400
    assert response.context["result_form"].errors == {
        "granted_on": ["The occupancy granted date cannot be in the future."],
        "template": ["Choose the template for the occupancy permit PDF."],
        "description": ["Describe the occupancy this permit grants."],
    }


def test_partial_permit_needs_the_portion_and_leaves_the_application_status(
    inspector, occupancy, open_visit, partial_template, application_a
):
    client = client_for(inspector)
    response = finish(client, occupancy, grant_data(partial_template))
    assert response.context["result_form"].errors == {
        "portion_of_building": ["A Partial permit names the portion of the building it covers."]
    }
    finish(client, occupancy, grant_data(partial_template, portion_of_building="Ground floor"))
    confirm(client, occupancy)
    permit = OccupancyPermit.objects.get()
    assert permit.portion_of_building == "Ground floor"
    assert "Ground floor" in pdf_text(permit.pdf.read())
    application_a.refresh_from_db()
    assert application_a.status == ApplicationStatus.CONSTRUCTION_STARTED


def test_not_granted_needs_a_reason_and_keeps_the_inspection_open(
    inspector, occupancy, open_visit, general_template
):
    client = client_for(inspector)
    data = grant_data(general_template, result="not_granted")
    response = finish(client, occupancy, data)
    assert response.context["result_form"].errors == {
        "failure_reason": ["Choose the reason the inspection was not passed."]
    }
    finish(client, occupancy, {**data, "failure_reason": "information_required"})
    response = confirm(client, occupancy)
    assert messages_of(response) == [
        "Visit 1 closed: Not granted. The inspection report is being prepared; start a new "
        "visit once the matters are resolved."
    ]
    assert not OccupancyPermit.objects.exists()
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.REVISIT_REQUIRED
    visit = Visit.objects.get(pk=open_visit.pk)
    assert (visit.result, visit.failure_reason) == ("not_granted", "information_required")
    assert "Start new visit" in response.content.decode()


def test_failed_general_inspection_then_a_second_visit_passes(
    inspector, application_a, framing_type_a
):
    framing = make_inspection(application_a, framing_type_a)
    client = client_for(inspector)
    client.post(reverse("inspections:visit_start", args=[framing.code]))
    visit1 = Visit.objects.get()
    deficiency = make_finding(visit1, inspector, description="Missing hurricane ties")
    data = {"action": "finish", "visit_type": "on_site", "result": "passed"}
    response = finish(client, framing, data)
    assert (
        "An inspection with an open deficiency cannot pass (1 open)"
        in (response.context["result_form"].errors["result"][0])
    )
    finish(client, framing, {**data, "result": "failed", "failure_reason": "deficiencies"})
    confirm(client, framing)
    client.post(reverse("inspections:visit_start", args=[framing.code]))
    visit2 = Visit.objects.get(status="open")
    client.post(
        reverse("inspections:finding_corrected", args=[deficiency.code]), {"corrected": "1"}
    )
    finish(client, framing, data)
    response = confirm(client, framing)
    assert (
        messages_of(response)[-1] == "Inspection closed. The inspection report is being prepared."
    )
    framing.refresh_from_db()
    visit2.refresh_from_db()
    assert (framing.status, visit2.result) == (InspectionStatus.CLOSED, "passed")
    assert "Missing hurricane ties" in pdf_text(visit2.report_pdf.read())


def test_second_confirmation_of_the_same_visit_issues_nothing_more(
    inspector, occupancy, open_visit, general_template
):
    client = client_for(inspector)
    other_tab = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    shown_in_other_tab = shown_fingerprint(other_tab, occupancy)
    confirm(client, occupancy)
    response = confirm(other_tab, occupancy, fingerprint=shown_in_other_tab)
    assert response.status_code == 200
    closed_at = timezone.localtime(Visit.objects.get().closed_at)
    assert messages_of(response) == [
        f"Visit 1 was already closed by Inspector on {closed_at:%Y-%m-%d at %H:%M}: "
        "Granted and fully completed."
    ]
    assert OccupancyPermit.objects.count() == 1


def test_permit_numbers_follow_each_other_without_gaps(
    inspector, application_a, occupancy_type_a, general_template
):
    client = client_for(inspector)
    numbers = []
    for _ in range(3):
        inspection = make_inspection(application_a, occupancy_type_a)
        client.post(reverse("inspections:visit_start", args=[inspection.code]))
        finish(client, inspection, grant_data(general_template))
        confirm(client, inspection)
        numbers.append(OccupancyPermit.objects.get(visit__inspection=inspection).number)
    year = TODAY.year
    assert numbers == [f"OCC-{year}-0001", f"OCC-{year}-0002", f"OCC-{year}-0003"]


def media_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_renderer_crash_changes_nothing_and_retry_succeeds(
    inspector, occupancy, open_visit, general_template, settings, monkeypatch
):
    import core.pdf

    client = client_for(inspector)
    make_finding(open_visit, inspector, description="Typed on site", is_remark=True)
    finish(client, occupancy, grant_data(general_template, description="Keep this text"))
    before = media_files(settings)

    def crash(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(core.pdf.HTML, "render", crash)
    response = confirm(client, occupancy)
    assert messages_of(response) == [
        "Nothing was closed: The PDF could not be produced (RuntimeError). Try again; if it "
        "persists, call support."
    ]
    visit = Visit.objects.get()
    assert visit.status == VisitStatus.OPEN
    assert visit.grant_draft.description == "Keep this text"
    assert visit.findings.get().description == "Typed on site"
    assert not OccupancyPermit.objects.exists()
    assert not PermitNumberSequence.objects.filter(last_value__gt=0).exists()
    assert media_files(settings) == before
    assert "Keep this text" in response.content.decode()

    monkeypatch.undo()
    response = confirm(client, occupancy)
    assert messages_of(response) == [
        f"Inspection closed. Occupancy permit OCC-{TODAY.year}-0001 issued."
    ]


def test_storage_refusing_to_write_changes_nothing(
    inspector, occupancy, open_visit, general_template, settings, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    calls = []

    def refuse_write(self, name, content):
        # The permit PDF is the one file the close writes (the report is the job's, after).
        calls.append(name)
        raise OSError("No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", refuse_write)
    with pytest.raises(OSError):
        confirm(client, occupancy, follow=False)
    assert len(calls) == 1 and "/OCC-" in calls[0]
    assert Visit.objects.get().status == VisitStatus.OPEN
    assert not OccupancyPermit.objects.exists()
    assert media_files(settings) == []


def test_a_clerk_cannot_finish_or_close(clerk, occupancy, open_visit, general_template):
    client = client_for(clerk)
    assert finish(client, occupancy, grant_data(general_template)).status_code == 403
    assert confirm(client, occupancy, follow=False).status_code == 403
    assert Visit.objects.get().status == VisitStatus.OPEN


def test_draft_result_is_kept_between_visits_to_the_page(
    inspector, occupancy, open_visit, general_template
):
    client = client_for(inspector)
    client.post(
        reverse("occupancy:visit_result", args=[occupancy.code]),
        {**grant_data(general_template, description="Half typed"), "action": "save"},
    )
    form = client.get(occupancy.get_absolute_url()).context["result_form"]
    assert form.initial["description"] == "Half typed"
    assert form.initial["result"] == "granted_full"


def test_a_confirmation_page_left_open_across_the_upgrade_still_closes(
    inspector, occupancy, open_visit, general_template
):
    # Before issue 12 the close was posted to /inspections/<code>/close: 308 keeps the POST.
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    shown = {"draft_fingerprint": shown_fingerprint(client, occupancy)}
    response = client.post(f"/inspections/{occupancy.code}/close", shown)
    assert response.status_code == 308
    assert response["Location"] == reverse("occupancy:visit_close", args=[occupancy.code])
    response = client.post(response["Location"], shown, follow=True)
    assert OccupancyPermit.objects.get().visit == open_visit
    assert Visit.objects.get().status == VisitStatus.CLOSED


def test_template_retired_after_confirmation_is_refused_at_the_field(
    inspector, occupancy, open_visit, general_template
):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    shown = shown_fingerprint(client, occupancy)
    general_template.is_active = False  # an administrator retires it meanwhile
    general_template.save(update_fields=["is_active"])
    response = confirm(client, occupancy, follow=False, fingerprint=shown)
    assert response.status_code == 400
    assert response.context["result_form"].errors["template"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not OccupancyPermit.objects.exists()
    assert Visit.objects.get().status == VisitStatus.OPEN


ISSUE_REFUSED = (
    "Your role does not allow issuing an occupancy permit: record the visit and ask an "
    "inspector or the chief building official to grant occupancy."
)


def test_a_grant_needs_the_permission_to_issue(inspector, occupancy, open_visit, general_template):
    """An operator who takes occupancy.issue_occupancypermit from the Inspector group: the
    inspector still records and closes visits, but a grant is refused at the result field,
    at the confirmation and by the service, and nothing is issued."""
    from django.contrib.auth.models import Permission

    from core.models import RoleGroup
    from tests.db_rows import rows

    RoleGroup.objects.get(role="inspector").group.permissions.remove(
        Permission.objects.get(codename="issue_occupancypermit")
    )
    client = client_for(inspector)
    before = rows()
    response = finish(client, occupancy, grant_data(general_template))
    assert response.status_code == 400
    assert response.context["result_form"].errors["result"] == [ISSUE_REFUSED]
    assert rows() == before
    # A draft saved earlier (Save draft does not issue) cannot be confirmed or closed either.
    data = {**grant_data(general_template), "action": "save"}
    assert finish(client, occupancy, data).status_code == 302
    assert confirm(client, occupancy, follow=False).status_code == 400
    response = client.post(
        reverse("occupancy:visit_close", args=[occupancy.code]),
        {"draft_fingerprint": "anything"},
    )
    assert response.status_code in (400, 409)
    assert not OccupancyPermit.objects.exists()
    assert Visit.objects.get().status == VisitStatus.OPEN
    # The service refuses it too, whatever a view checked.
    from occupancy.exceptions import GrantRefused
    from occupancy.rules import GrantDetails
    from occupancy.services import visit_finish_and_close

    with pytest.raises(GrantRefused) as refused:
        visit_finish_and_close(
            visit=Visit.objects.get(),
            actor=inspector,
            result="granted_full",
            grant=GrantDetails(
                template=general_template,
                granted_on=TODAY,
                description="Single detached dwelling.",
            ),
        )
    assert refused.value.refusals["result"] == ISSUE_REFUSED
    assert not OccupancyPermit.objects.exists()
