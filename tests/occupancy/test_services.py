"""What occupancy.services refuses, called directly (test_finish_and_close.py and test_admin.py
show the same refusals through the pages): each test names the exception and its message, and
proves that no row changed, no permit number was used up and no file was left behind."""

import datetime

import pytest
from django.utils import timezone

import core.pdf
from core.models import Activity
from core.pdf import PdfRenderError
from inspections.models import Finding, Inspection, Order, Visit
from occupancy.exceptions import RevocationRefused
from occupancy.models import (
    OccupancyPermit,
    OccupancyPermitRevocation,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
    PermitKind,
    PermitNumberSequence,
    PermitStatus,
)
from occupancy.services import (
    CloseError,
    GrantDetails,
    occupancy_permit_revoke,
    visit_finish_and_close,
)
from permits.models import Application
from tests.db_rows import media_files, rows
from tests.factories import make_closed_visit, make_finding
from tests.occupancy.conftest import make_template

TODAY = timezone.localdate()
TABLES = (
    Application,
    Inspection,
    Visit,
    Finding,
    Order,
    Activity,
    OccupancyPermit,
    OccupancyPermitRevocation,
    OccupancyPermitTemplateVersion,
    PermitNumberSequence,
)


def everything():
    return rows(*TABLES), media_files()


def refused(call, exception=CloseError) -> BaseException:
    """Run a change that must be refused; the exception, after checking nothing changed."""
    before = everything()
    with pytest.raises(exception) as caught:
        call()
    assert everything() == before
    return caught.value


def grant(template, **fields) -> GrantDetails:
    values = dict(template=template, granted_on=TODAY, description="Single detached dwelling.")
    values.update(fields)
    return GrantDetails(**values)


def close(visit, actor, result="granted_full", grant=None, failure_reason=""):
    return visit_finish_and_close(
        visit=visit, actor=actor, result=result, failure_reason=failure_reason, grant=grant
    )


def crash(*args, **kwargs):
    raise RuntimeError("renderer crashed")


# visit_finish_and_close


@pytest.mark.parametrize("result", ["granted_full", "granted_outstanding"])
def test_grant_without_its_details_is_refused(inspector, open_visit, result):
    if result == "granted_outstanding":
        make_finding(open_visit, inspector)
    exc = refused(lambda: close(open_visit, inspector, result, grant=None))
    assert str(exc) == (
        "Choose the template for the occupancy permit PDF. Enter the date occupancy is "
        "granted. Describe the occupancy this permit grants."
    )


@pytest.mark.parametrize("which", ["of another municipality", "inactive", "of an inactive type"])
def test_only_an_active_template_of_the_municipality_issues_a_permit(
    inspector, open_visit, general_template, municipality_b, which
):
    if which == "of another municipality":
        beta = OccupancyPermitType.objects.create(municipality=municipality_b, name="General")
        template = make_template(municipality_b, beta, "Beta permit", "general.html")
    elif which == "inactive":
        OccupancyPermitTemplate.objects.filter(pk=general_template.pk).update(is_active=False)
        template = OccupancyPermitTemplate.objects.get(pk=general_template.pk)
    else:
        OccupancyPermitType.objects.filter(pk=general_template.permit_type_id).update(
            is_active=False
        )
        template = OccupancyPermitTemplate.objects.get(pk=general_template.pk)
    exc = refused(lambda: close(open_visit, inspector, grant=grant(template)))
    assert str(exc) == "Choose one of the municipality's active occupancy permit templates."


@pytest.mark.parametrize("portion", ["", "   "])
def test_partial_permit_without_the_portion_is_refused(
    inspector, open_visit, partial_template, portion
):
    details = grant(partial_template, portion_of_building=portion)
    exc = refused(lambda: close(open_visit, inspector, grant=details))
    assert str(exc) == "A Partial permit names the portion of the building it covers."


@pytest.fixture
def temporary_template(municipality_a):
    temporary = OccupancyPermitType.objects.create(
        municipality=municipality_a,
        name="Temporary",
        kind=PermitKind.TEMPORARY,
        needs_expiry_date=True,
    )
    return make_template(municipality_a, temporary, "Temporary permit", "temporary.html")


@pytest.mark.parametrize(
    "expires_on, message",
    [
        (None, "A Temporary permit needs an expiry date."),
        (TODAY, "The expiry date must be after the granted date."),
        (TODAY - datetime.timedelta(days=1), "The expiry date must be after the granted date."),
    ],
)
def test_temporary_permit_needs_an_expiry_after_the_grant(
    inspector, open_visit, temporary_template, expires_on, message
):
    details = grant(temporary_template, expires_on=expires_on)
    assert str(refused(lambda: close(open_visit, inspector, grant=details))) == message


def test_grant_dated_in_the_future_is_refused(inspector, open_visit, general_template):
    details = grant(general_template, granted_on=TODAY + datetime.timedelta(days=1))
    exc = refused(lambda: close(open_visit, inspector, grant=details))
    assert str(exc) == "The occupancy granted date cannot be in the future."


def test_result_the_inspection_rules_refuse_issues_no_permit(
    inspector, open_visit, general_template
):
    make_finding(open_visit, inspector)
    exc = refused(lambda: close(open_visit, inspector, grant=grant(general_template)))
    assert str(exc) == (
        "Occupancy cannot be granted as fully completed while 1 deficiency and 0 orders are "
        "outstanding: choose Granted, but outstanding matters, or Not granted."
    )


def test_not_granted_without_a_reason_is_refused(inspector, open_visit):
    exc = refused(lambda: close(open_visit, inspector, "not_granted"))
    assert str(exc) == "Choose the reason the inspection was not passed."


def test_unusable_number_format_uses_up_no_number(inspector, open_visit, general_template):
    OccupancyPermitType.objects.filter(pk=general_template.permit_type_id).update(
        number_format="{prefix}-{year}"
    )
    template = OccupancyPermitTemplate.objects.get(pk=general_template.pk)
    exc = refused(lambda: close(open_visit, inspector, grant=grant(template)))
    assert str(exc) == (
        "The number format of General is not valid: The format needs the {seq} token, "
        "e.g. {prefix}-{year}-{seq:04}."
    )


def test_closing_a_closed_visit_again_is_refused(inspector, occupancy, general_template):
    # Closed at that time when written: a closed visit is never changed afterwards (on
    # PostgreSQL the database refuses it, inspections 0008).
    visit = make_closed_visit(
        occupancy,
        inspector,
        result="not_granted",
        closed_at=timezone.make_aware(datetime.datetime(2026, 3, 2, 14, 5)),
    )
    exc = refused(lambda: close(visit, inspector, grant=grant(general_template)))
    assert str(exc) == (
        "Visit 1 was already closed by Inspector on 2026-03-02 at 14:05; nothing was changed."
    )


def test_renderer_failure_closes_nothing_and_leaves_no_file(
    inspector, open_visit, general_template, monkeypatch
):
    monkeypatch.setattr(core.pdf.HTML, "render", crash)
    exc = refused(lambda: close(open_visit, inspector, grant=grant(general_template)))
    assert str(exc) == (
        "Nothing was closed: The PDF could not be produced (RuntimeError). Try again; if it "
        "persists, call support."
    )
    assert isinstance(exc.__cause__, PdfRenderError)


def test_a_report_failing_to_render_leaves_the_close_standing_and_is_tried_again(
    inspector, open_visit, general_template, monkeypatch
):
    """The report is rendered by a job after the close has committed: its render failing
    undoes nothing (the permit stands, its number used), and the job tries again (at once in
    tests, after a delay on the real queue) and stores the report."""
    real_render = core.pdf.HTML.render
    rendered = []

    def fail_second(self, *args, **kwargs):
        rendered.append(1)
        if len(rendered) == 2:
            raise RuntimeError("renderer crashed")
        return real_render(self, *args, **kwargs)

    monkeypatch.setattr(core.pdf.HTML, "render", fail_second)
    permit = close(open_visit, inspector, grant=grant(general_template)).permit
    assert permit.number == f"OCC-{TODAY.year}-0001"
    assert len(rendered) == 3  # the permit; the report, failed; the report again
    visit = Visit.objects.get(pk=open_visit.pk)
    assert visit.report_pdf and len(visit.report_sha256) == 64
    assert media_files() == sorted([permit.pdf.name, visit.report_pdf.name])


# occupancy_permit_revoke


@pytest.fixture
def permit(inspector, open_visit, general_template):
    return close(
        open_visit,
        inspector,
        grant=grant(general_template, granted_on=TODAY - datetime.timedelta(days=10)),
    ).permit


def revoke(permit, actor, reason="Occupied before the fire separation was completed.", on=TODAY):
    return occupancy_permit_revoke(permit=permit, actor=actor, reason=reason, revoked_on=on)


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_revocation_needs_a_reason(admin_user, permit, reason):
    exc = refused(lambda: revoke(permit, admin_user, reason), RevocationRefused)
    assert str(exc) == "Write the reason for the revocation."


def test_revocation_dated_before_the_grant_is_refused(admin_user, permit):
    before_grant = permit.granted_on - datetime.timedelta(days=1)
    exc = refused(lambda: revoke(permit, admin_user, on=before_grant), RevocationRefused)
    assert str(exc) == "A permit cannot be revoked before the date it was granted."


def test_a_permit_is_revoked_once(admin_user, permit):
    revoke(permit, admin_user)
    exc = refused(lambda: revoke(permit, admin_user, "Again"), RevocationRefused)
    assert str(exc) == f"Occupancy permit {permit.number} is already revoked."
    assert OccupancyPermitRevocation.objects.get().reason == (
        "Occupied before the fire separation was completed."
    )


def test_revocation_notice_failing_to_render_revokes_nothing(admin_user, permit, monkeypatch):
    monkeypatch.setattr(core.pdf.HTML, "render", crash)
    exc = refused(lambda: revoke(permit, admin_user), RevocationRefused)
    assert str(exc) == "Nothing was revoked: The PDF could not be produced (RuntimeError)."
    assert isinstance(exc.__cause__, PdfRenderError)
    permit.refresh_from_db()
    assert permit.status == PermitStatus.ISSUED
