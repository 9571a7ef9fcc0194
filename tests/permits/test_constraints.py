"""The invariants the database itself enforces, whatever code writes the rows."""

import datetime
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inspections.models import Finding, Inspection, Visit, VisitStatus
from occupancy.models import (
    OccupancyPermit,
    OccupancyPermitRevocation,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
)
from tests.conftest import make_application


@pytest.fixture
def inspection(application_a, occupancy_type_a):
    return Inspection.objects.create(application=application_a, inspection_type=occupancy_type_a)


def test_second_open_visit_of_an_inspection_is_refused(inspection, inspector):
    Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    with pytest.raises(
        IntegrityError, match="visit_one_open_per_inspection|inspections_visit.inspection_id"
    ):
        with transaction.atomic():
            Visit.objects.create(inspection=inspection, sequence=2, started_by=inspector)


def test_closed_visit_without_result_is_refused(inspection, inspector):
    with pytest.raises(IntegrityError, match="visit_closed_has_result"):
        with transaction.atomic():
            Visit.objects.create(
                inspection=inspection,
                sequence=1,
                started_by=inspector,
                status=VisitStatus.CLOSED,
                closed_by=inspector,
                closed_at=timezone.now(),
            )


def test_duplicate_application_number_in_one_municipality_is_refused(application_a):
    with pytest.raises(
        IntegrityError,
        match="application_number_unique_per_municipality|permits_application.municipality_id",
    ):
        with transaction.atomic():
            make_application(application_a.municipality, number=application_a.number)


def test_same_application_number_in_two_municipalities_is_allowed(application_a, municipality_b):
    other = make_application(municipality_b, number=application_a.number)
    assert other.pk != application_a.pk


def test_a_remark_cannot_be_marked_corrected(inspection, inspector):
    # The remark's visit is open: a closed visit takes no new finding at all (PostgreSQL's
    # trigger, inspections 0008), which would hide the constraint under test.
    first = Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    second = Visit.objects.create(
        inspection=inspection,
        sequence=2,
        started_by=inspector,
        status=VisitStatus.CLOSED,
        result="not_granted",
        closed_by=inspector,
        closed_at=timezone.now(),
    )
    with pytest.raises(IntegrityError, match="finding_remark_never_corrected"):
        with transaction.atomic():
            Finding.objects.create(
                visit=first,
                description="Paint touch-ups",
                is_remark=True,
                corrected_on_visit=second,
                created_by=inspector,
            )


def issue_raw_permit(inspection, inspector, number, *, real_snapshot=False):
    """A permit row written directly, to probe the constraints (the service comes later).
    With `real_snapshot`, the snapshot a real issue stores (a notice of revocation prints
    from it), written with the row: PostgreSQL refuses to change an issued permit after."""
    municipality = inspection.application.municipality
    permit_type, _ = OccupancyPermitType.objects.get_or_create(
        municipality=municipality, name="General"
    )
    template, _ = OccupancyPermitTemplate.objects.get_or_create(
        municipality=municipality, permit_type=permit_type, name="General", body="<p>x</p>"
    )
    version, _ = OccupancyPermitTemplateVersion.objects.get_or_create(
        template=template, version=1, body=template.body
    )
    sequence = inspection.visits.count() + 1
    visit = Visit.objects.create(
        inspection=inspection,
        sequence=sequence,
        started_by=inspector,
        status=VisitStatus.CLOSED,
        result="granted_full",
        closed_by=inspector,
        closed_at=timezone.now(),
    )
    pdf = b"%PDF-1.7 test"
    permit = OccupancyPermit(
        municipality=municipality,
        application=inspection.application,
        visit=visit,
        permit_type=permit_type,
        template_version=version,
        number=number,
        result="granted_full",
        granted_on=datetime.date(2026, 3, 1),
        description="Single detached dwelling",
        snapshot={"number": number},
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        issued_by=inspector,
    )
    if real_snapshot:
        from occupancy.snapshot import PermitSnapshot

        permit.snapshot = PermitSnapshot.from_grant(
            visit=visit,
            permit_type=permit_type,
            number=number,
            result=permit.result,
            granted_on=permit.granted_on,
            expires_on=None,
            description=permit.description,
            portion_of_building="",
            issued_at=permit.issued_at,
            inspector=inspector,
        ).to_json()
    permit.pdf.save(f"{number}.pdf", ContentFile(pdf), save=False)
    permit.save()
    return permit


def test_duplicate_permit_number_in_one_municipality_is_refused(inspection, inspector):
    issue_raw_permit(inspection, inspector, "OCC-2026-0001")
    with pytest.raises(
        IntegrityError,
        match="occupancy_permit_number_unique|occupancy_occupancypermit.municipality_id",
    ):
        with transaction.atomic():
            issue_raw_permit(inspection, inspector, "OCC-2026-0001")


def test_an_issued_permit_cannot_be_deleted(inspection, inspector):
    permit = issue_raw_permit(inspection, inspector, "OCC-2026-0001")
    with pytest.raises(PermissionError, match="never deleted"):
        permit.delete()
    with pytest.raises(PermissionError, match="never deleted"):
        OccupancyPermit.objects.filter(pk=permit.pk).delete()
    assert OccupancyPermit.objects.filter(pk=permit.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger is PostgreSQL's")
def test_database_refuses_to_delete_or_alter_an_issued_permit(inspection, inspector):
    permit = issue_raw_permit(inspection, inspector, "OCC-2026-0001")
    with pytest.raises(IntegrityError, match="cannot be deleted"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM occupancy_occupancypermit WHERE id = %s", [permit.pk])
    with pytest.raises(IntegrityError, match="cannot be changed"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE occupancy_occupancypermit SET number = 'X' WHERE id = %s", [permit.pk]
            )
    # A revocation changes the status only, once its revocation row exists (occupancy 0011;
    # tests/occupancy/test_record_guards.py tries every column and transition).
    OccupancyPermitRevocation.objects.create(
        permit=permit,
        reason="Occupied before the guard was fixed",
        revoked_on=datetime.date(2026, 3, 1),
        revoked_by=inspector,
        notice_pdf="revocations/2026/OCC-2026-0001-revocation.pdf",
        notice_sha256="0" * 64,
    )
    OccupancyPermit.objects.filter(pk=permit.pk).update(status="revoked")
    assert OccupancyPermit.objects.get(pk=permit.pk).status == "revoked"
