"""Issue 13, deliverables 1 and 2: no occupancy permit without an issued building permit, a
granted date between that permit and today, the inspections required before occupancy passed
and the Ontario checklist verified; the permit number takes the year of issue. Each refusal
is checked through the service (nothing changes) and through HTTP (the message at its
field)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inspections.models import Inspection, InspectionStatus, Visit, VisitStatus
from occupancy.checklists import HOUSE, permit_type_seed_checklist
from occupancy.exceptions import GrantRefused
from occupancy.models import OccupancyPermit, PermitNumberSequence, RequiredInspection
from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from permits.models import Application, ApplicationStatus, WorkType
from tests.conftest import client_for
from tests.db_rows import media_files, rows
from tests.factories import make_closed_visit, make_inspection
from tests.occupancy.test_finish_and_close import confirm, finish, grant_data

TODAY = timezone.localdate()
MODELS = [OccupancyPermit, PermitNumberSequence, Visit, Inspection, Application]


def grant(template, **fields) -> GrantDetails:
    return GrantDetails(
        template=template,
        granted_on=fields.pop("granted_on", TODAY),
        description="Single detached dwelling",
        **fields,
    )


def close_refused(visit, inspector, template, **fields) -> dict[str, str]:
    before = rows(*MODELS), media_files()
    with pytest.raises(GrantRefused) as refused:
        visit_finish_and_close(
            visit=visit, actor=inspector, result="granted_full", grant=grant(template, **fields)
        )
    assert (rows(*MODELS), media_files()) == before
    return refused.value.refusals


def field_errors(response, field) -> list[str]:
    return response.context["result_form"].errors.get(field, [])


@pytest.mark.parametrize("status", [ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW])
def test_no_grant_before_a_building_permit_is_issued(
    status, inspector, occupancy, open_visit, general_template
):
    application = occupancy.application
    application.status, application.permit_issued_on = status, None
    application.save(update_fields=["status", "permit_issued_on"])
    message = (
        f"Occupancy cannot be granted: no building permit has been issued on application "
        f"{application.number} (status {application.get_status_display()})."
    )
    assert close_refused(open_visit, inspector, general_template) == {"result": message}
    response = finish(client_for(inspector), occupancy, grant_data(general_template))
    assert response.status_code == 400
    assert field_errors(response, "result") == [message]
    assert not OccupancyPermit.objects.exists()
    assert Visit.objects.get().status == VisitStatus.OPEN
    application.refresh_from_db()
    assert application.status == status  # never jumps to Occupied


def test_no_grant_on_a_closed_application(inspector, occupancy, open_visit, general_template):
    application = occupancy.application
    application.status = ApplicationStatus.CLOSED
    application.save(update_fields=["status"])
    message = f"Application {application.number} is closed: no occupancy permit can be issued."
    assert close_refused(open_visit, inspector, general_template) == {"result": message}
    response = finish(client_for(inspector), occupancy, grant_data(general_template))
    assert response.status_code == 400
    assert field_errors(response, "result") == [message]


def test_granted_date_before_the_building_permit_is_refused(
    inspector, occupancy, open_visit, general_template
):
    issued_on = occupancy.application.permit_issued_on
    day_before = issued_on - datetime.timedelta(days=1)
    message = (
        f"The occupancy granted date cannot be before the building permit was issued "
        f"({issued_on:%Y-%m-%d})."
    )
    assert close_refused(open_visit, inspector, general_template, granted_on=day_before) == {
        "granted_on": message
    }
    response = finish(
        client_for(inspector),
        occupancy,
        grant_data(general_template, granted_on=day_before.isoformat()),
    )
    assert response.status_code == 400
    assert field_errors(response, "granted_on") == [message]


def test_granted_date_in_the_future_is_refused_by_the_service_too(
    inspector, occupancy, open_visit, general_template
):
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert close_refused(open_visit, inspector, general_template, granted_on=tomorrow) == {
        "granted_on": "The occupancy granted date cannot be in the future."
    }


def test_permit_number_takes_the_year_of_issue_not_the_granted_date(
    inspector, occupancy, open_visit, general_template
):
    application = occupancy.application
    application.permit_issued_on = datetime.date(TODAY.year - 1, 6, 1)
    application.applied_on = datetime.date(TODAY.year - 1, 5, 1)
    application.save(update_fields=["permit_issued_on", "applied_on"])
    last_year = datetime.date(TODAY.year - 1, 12, 30)
    permit = visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        grant=grant(general_template, granted_on=last_year),
    ).permit
    assert permit.granted_on == last_year
    assert permit.number == f"OCC-{TODAY.year}-0001"
    assert list(PermitNumberSequence.objects.values_list("year", flat=True)) == [TODAY.year]


@pytest.fixture
def required(municipality_a, framing_type_a, application_a):
    """Framing required before occupancy of new construction."""
    assert application_a.work_type == WorkType.NEW
    return RequiredInspection.objects.create(
        municipality=municipality_a, work_type=WorkType.NEW, inspection_type=framing_type_a
    )


def test_grant_refused_until_the_required_inspections_passed(
    required, inspector, occupancy, open_visit, general_template, framing_type_a
):
    message = (
        "Occupancy cannot be granted before the inspections required for New construction "
        "have passed: Framing."
    )
    assert close_refused(open_visit, inspector, general_template) == {"result": message}
    framing = make_inspection(occupancy.application, framing_type_a)
    make_closed_visit(framing, inspector, result="failed")
    framing.status = InspectionStatus.REVISIT_REQUIRED
    framing.save(update_fields=["status"])
    response = finish(client_for(inspector), occupancy, grant_data(general_template))
    assert field_errors(response, "result") == [message]  # failed is not passed
    make_closed_visit(framing, inspector, sequence=2, result="passed")
    framing.status = InspectionStatus.CLOSED
    framing.save(update_fields=["status"])
    finish(client_for(inspector), occupancy, grant_data(general_template))
    confirm(client_for(inspector), occupancy)
    assert OccupancyPermit.objects.get().visit == open_visit


def test_a_type_for_occupancy_before_completion_needs_only_its_checklist(
    required, inspector, occupancy, open_visit, partial_template
):
    permit_type = partial_template.permit_type
    permit_type.needs_required_inspections = False
    permit_type.save(update_fields=["needs_required_inspections"])
    permit = visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        grant=grant(partial_template, portion_of_building="Ground floor"),
    ).permit
    assert permit.portion_of_building == "Ground floor"


def test_required_inspections_of_another_work_type_do_not_apply(
    municipality_a, framing_type_a, inspector, occupancy, open_visit, general_template
):
    RequiredInspection.objects.create(
        municipality=municipality_a, work_type=WorkType.DEMOLITION, inspection_type=framing_type_a
    )
    assert visit_finish_and_close(
        visit=open_visit, actor=inspector, result="granted_full", grant=grant(general_template)
    ).permit


@pytest.fixture
def checklist(general_template):
    permit_type_seed_checklist(permit_type=general_template.permit_type)
    return list(general_template.permit_type.conditions.order_by("display_order"))


def test_grant_refused_while_a_condition_is_unmarked_or_not_met(
    checklist, inspector, occupancy, open_visit, general_template
):
    marks = {c.pk: "met" for c in checklist}
    marks[checklist[0].pk] = "not_met"
    del marks[checklist[1].pk]
    refusals = close_refused(open_visit, inspector, general_template, conditions=marks)
    assert refusals == {
        f"condition_{checklist[0].pk}": f"{HOUSE[0][0]} is not met: occupancy cannot be granted.",
        f"condition_{checklist[1].pk}": f"Mark {HOUSE[1][0]} Met or Not applicable.",
    }
    data = grant_data(general_template, **{f"condition_{pk}": m for pk, m in marks.items()})
    response = finish(client_for(inspector), occupancy, data)
    assert response.status_code == 400
    assert field_errors(response, f"condition_{checklist[1].pk}") == [
        f"Mark {HOUSE[1][0]} Met or Not applicable."
    ]
    assert field_errors(response, f"condition_{checklist[0].pk}") == [
        f"{HOUSE[0][0]} is not met: occupancy cannot be granted."
    ]
    page = response.content.decode()
    assert "Occupancy checklist of a General permit" in page
    assert HOUSE[3][1] in page


def test_checklist_marks_are_kept_as_a_draft_and_printed_on_the_permit(
    checklist, inspector, occupancy, open_visit, general_template
):
    from tests.occupancy.conftest import pdf_text

    client = client_for(inspector)
    marks = {f"condition_{c.pk}": "met" for c in checklist}
    marks[f"condition_{checklist[4].pk}"] = "not_applicable"
    client.post(
        reverse("occupancy:visit_result", args=[occupancy.code]),
        {**grant_data(general_template, **marks), "action": "save"},
    )
    form = client.get(occupancy.get_absolute_url()).context["result_form"]
    assert form.initial[f"condition_{checklist[4].pk}"] == "not_applicable"
    finish(client, occupancy, grant_data(general_template, **marks))
    shown = client.get(reverse("occupancy:visit_confirm", args=[occupancy.code]))
    assert "Occupancy checklist printed on the permit" in shown.content.decode()
    assert [(c.clause, c.mark_label) for c in shown.context["conditions"]][3:5] == [
        (HOUSE[3][0], "Met"),
        (HOUSE[4][0], "Not applicable"),
    ]
    confirm(client, occupancy)
    permit = OccupancyPermit.objects.get()
    text = pdf_text(permit.pdf.read())
    assert "CONDITIONS VERIFIED" in text.upper()
    assert "Fire-fighting access routes are provided and accessible." in text
    assert "Not applicable" in text


def test_a_required_inspection_under_follow_up_still_counts_as_passed(
    required, inspector, occupancy, open_visit, general_template, framing_type_a
):
    framing = make_inspection(occupancy.application, framing_type_a)
    make_closed_visit(framing, inspector, result="passed")
    framing.status = InspectionStatus.FOLLOW_UP  # reopened to resolve a matter, had passed
    framing.save(update_fields=["status"])
    assert visit_finish_and_close(
        visit=open_visit, actor=inspector, result="granted_full", grant=grant(general_template)
    ).permit


def test_migration_requires_the_default_inspections_of_new_houses_except_finals(
    municipality_a, framing_type_a
):
    import importlib

    from django.apps import apps

    from demo import builders
    from inspections.models import BldsInspectionType, DefaultInspection

    final = builders.inspection_type(
        municipality=municipality_a, name="Final", blds_type=BldsInspectionType.BUILDING_FINAL
    )
    for inspection_type in (framing_type_a, final):
        DefaultInspection.objects.create(
            municipality=municipality_a, work_type=WorkType.NEW, inspection_type=inspection_type
        )
    migration = importlib.import_module(
        "occupancy.migrations.0008_required_inspections_for_new_houses"
    )
    migration.seed_required_inspections(apps, None)
    migration.seed_required_inspections(apps, None)  # again: nothing twice
    assert list(RequiredInspection.objects.values_list("inspection_type__name", "work_type")) == [
        ("Framing", WorkType.NEW)
    ]


def test_a_general_permit_type_cannot_skip_the_required_inspections(admin_user, general_type):
    from django.db import IntegrityError, transaction

    response = client_for(admin_user).post(
        reverse("admin:occupancy_occupancypermittype_change", args=[general_type.pk]),
        {
            "municipality": general_type.municipality_id,
            "name": general_type.name,
            "kind": "general",
            "language": "en-ca",
            "is_active": "on",
            "prefix": "OCC",
            "number_format": "{prefix}-{year}-{seq:04}",
            "sequence_key": "occupancy",
            "restart_each_year": "on",
            "conditions-TOTAL_FORMS": "0",
            "conditions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "only a partial or temporary permit may authorize occupancy before completion" in (
        response.content.decode()
    )
    general_type.refresh_from_db()
    assert general_type.needs_required_inspections
    with pytest.raises(IntegrityError), transaction.atomic():
        type(general_type).objects.filter(pk=general_type.pk).update(
            needs_required_inspections=False
        )
