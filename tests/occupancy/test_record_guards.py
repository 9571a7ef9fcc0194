"""Issue 15, deliverable 4: the database guards an issued permit and its revocation, whatever
code writes the rows (occupancy migration 0011). On PostgreSQL every column of an issued
permit is refused to an ORM .update() and to raw SQL, with the trigger's message naming the
column; the status changes only from Issued to Revoked and only once the revocation row
exists; a revocation is never changed nor deleted. The app's own revocation still works."""

import datetime
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from occupancy.models import (
    ConditionMark,
    OccupancyCondition,
    OccupancyPermit,
    OccupancyPermitRevocation,
    PermitStatus,
)
from occupancy.rules import GrantDetails
from occupancy.services import occupancy_permit_revoke, visit_finish_and_close
from tests.db_rows import rows

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the record guards are PostgreSQL triggers"
    ),
]

TODAY = timezone.localdate()
REASON = "Occupied before the fire separation between the units was completed."


@pytest.fixture
def permit(inspector, open_visit, partial_template):
    """A Partial permit (with its portion of the building) issued through Finish and Close."""
    conditions = OccupancyCondition.objects.filter(permit_type=partial_template.permit_type)
    return visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=partial_template,
            granted_on=TODAY - datetime.timedelta(days=3),
            description="Ground floor of the single dwelling.",
            portion_of_building="Ground floor",
            conditions={c.pk: ConditionMark.MET for c in conditions},
        ),
    ).permit


def other_values(permit, application_b, municipality_b, clerk):
    """For each column of the permit, another value someone might try to write."""
    # Ids of rows that need not exist: the trigger refuses before any foreign key is checked.
    return {
        "id": permit.pk + 1000,
        "municipality_id": municipality_b.pk,
        "application_id": application_b.pk,
        "visit_id": permit.visit_id + 1000,
        "permit_type_id": permit.permit_type_id + 1000,
        "template_version_id": permit.template_version_id + 1000,
        "number": "OCC-2026-9999",
        "result": "granted_outstanding",
        "granted_on": permit.granted_on - datetime.timedelta(days=1),
        "expires_on": TODAY + datetime.timedelta(days=365),
        "description": "The whole building.",
        "portion_of_building": "Whole building",
        "snapshot": {**permit.snapshot, "address": "9 Elsewhere Road"},
        "pdf": "occupancy/2026/forged.pdf",
        "pdf_sha256": "f" * 64,
        "issued_by_id": clerk.pk,
        "issued_at": permit.issued_at - datetime.timedelta(days=30),
        # Issue 18: the language it was issued in (its PDF and snapshot are English).
        "language": "fr-ca",
    }


def permit_columns():
    return sorted(f.column for f in OccupancyPermit._meta.concrete_fields if f.column != "status")


COLUMNS = permit_columns()


def test_every_column_of_the_permit_is_tried_here(permit, application_b, municipality_b, clerk):
    # A column added later fails here until the tests below try it too.
    assert sorted(other_values(permit, application_b, municipality_b, clerk)) == COLUMNS


def field_name(column):
    return next(f.name for f in OccupancyPermit._meta.concrete_fields if f.column == column)


@pytest.mark.parametrize("column", COLUMNS)
def test_each_column_of_an_issued_permit_is_refused_to_the_orm_and_to_sql(
    column, permit, application_b, municipality_b, clerk
):
    value = other_values(permit, application_b, municipality_b, clerk)[column]
    before = rows(OccupancyPermit)
    message = rf"occupancy permit {permit.number} was issued and cannot be changed \({column}\)"

    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            OccupancyPermit.objects.filter(pk=permit.pk).update(**{field_name(column): value})

    sql_value = json.dumps(value) if column == "snapshot" else value
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE occupancy_occupancypermit SET "{column}" = %s WHERE id = %s',
                [sql_value, permit.pk],
            )
    assert rows(OccupancyPermit) == before


def test_several_columns_at_once_are_all_named(permit):
    with pytest.raises(IntegrityError, match=r"\(description, expires_on, portion_of_building\)"):
        with transaction.atomic():
            OccupancyPermit.objects.filter(pk=permit.pk).update(
                description="Whole building",
                portion_of_building="",
                expires_on=TODAY + datetime.timedelta(days=90),
            )


def test_saving_the_permit_unchanged_is_allowed(permit):
    # What a no-op save writes is the row as it is: nothing changes, nothing is refused.
    before = rows(OccupancyPermit)
    OccupancyPermit.objects.get(pk=permit.pk).save()
    assert rows(OccupancyPermit) == before


def test_revoking_without_the_revocation_row_is_refused(permit):
    message = rf"occupancy permit {permit.number} is revoked only with its revocation"
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.REVOKED)
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE occupancy_occupancypermit SET status = 'revoked' WHERE id = %s",
                [permit.pk],
            )
    assert OccupancyPermit.objects.get(pk=permit.pk).status == PermitStatus.ISSUED


def test_revoking_with_the_revocation_row_is_accepted(permit, chief):
    revocation = occupancy_permit_revoke(
        permit=permit, actor=chief, reason=REASON, revoked_on=TODAY
    )
    permit.refresh_from_db()
    assert permit.status == PermitStatus.REVOKED
    assert permit.revocation == revocation


def test_a_revocation_row_inserted_first_lets_the_status_change(permit, chief):
    # The order of occupancy_permit_revoke, written by hand: revocation, then the status.
    OccupancyPermitRevocation.objects.create(
        permit=permit,
        reason=REASON,
        revoked_on=TODAY,
        revoked_by=chief,
        notice_pdf=f"revocations/2026/{permit.number}-revocation.pdf",
        notice_sha256="a" * 64,
    )
    OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.REVOKED)
    assert OccupancyPermit.objects.get(pk=permit.pk).status == PermitStatus.REVOKED


def test_a_revoked_permit_never_becomes_issued_again(permit, chief):
    occupancy_permit_revoke(permit=permit, actor=chief, reason=REASON, revoked_on=TODAY)
    message = (
        rf"occupancy permit {permit.number} is revoked: its status changes only from issued to "
        "revoked"
    )
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.ISSUED)
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE occupancy_occupancypermit SET status = 'issued' WHERE id = %s",
                [permit.pk],
            )
    assert OccupancyPermit.objects.get(pk=permit.pk).status == PermitStatus.REVOKED


def test_a_revoked_permit_keeps_its_columns_too(permit, chief):
    occupancy_permit_revoke(permit=permit, actor=chief, reason=REASON, revoked_on=TODAY)
    with pytest.raises(IntegrityError, match=r"cannot be changed \(description\)"):
        with transaction.atomic():
            OccupancyPermit.objects.filter(pk=permit.pk).update(description="Amended")


def revocation_other_values(revocation, clerk):
    return {
        "id": revocation.pk + 1000,
        "permit_id": revocation.permit_id + 1000,
        "reason": "Issued in error.",
        "revoked_on": revocation.revoked_on - datetime.timedelta(days=1),
        "revoked_by_id": clerk.pk,
        "notice_pdf": "revocations/2026/forged.pdf",
        "notice_sha256": "b" * 64,
        "created_at": revocation.created_at - datetime.timedelta(days=1),
    }


def test_a_revocation_is_never_changed(permit, chief, clerk):
    revocation = occupancy_permit_revoke(
        permit=permit, actor=chief, reason=REASON, revoked_on=TODAY
    )
    values = revocation_other_values(revocation, clerk)
    assert sorted(values) == sorted(
        f.column for f in OccupancyPermitRevocation._meta.concrete_fields
    )
    before = rows(OccupancyPermitRevocation)
    message = (
        rf"the revocation of occupancy permit {permit.number} is a legal record and cannot be "
        "changed"
    )
    for column, value in values.items():
        name = next(
            f.name for f in OccupancyPermitRevocation._meta.concrete_fields if f.column == column
        )
        with pytest.raises(IntegrityError, match=message):
            with transaction.atomic():
                OccupancyPermitRevocation.objects.filter(pk=revocation.pk).update(**{name: value})
        with pytest.raises(IntegrityError, match=message):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f'UPDATE occupancy_occupancypermitrevocation SET "{column}" = %s WHERE id = %s',
                    [value, revocation.pk],
                )
    assert rows(OccupancyPermitRevocation) == before


def test_a_revocation_is_never_deleted(permit, chief):
    revocation = occupancy_permit_revoke(
        permit=permit, actor=chief, reason=REASON, revoked_on=TODAY
    )
    message = (
        rf"the revocation of occupancy permit {permit.number} is a legal record and cannot be "
        "deleted"
    )
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            # The queryset's delete() refuses in Python; this is the DELETE it would send.
            OccupancyPermitRevocation.objects.filter(pk=revocation.pk)._raw_delete(connection.alias)
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM occupancy_occupancypermitrevocation WHERE id = %s", [revocation.pk]
            )
    assert OccupancyPermitRevocation.objects.filter(pk=revocation.pk).exists()
    assert OccupancyPermit.objects.get(pk=permit.pk).status == PermitStatus.REVOKED


def test_a_permit_is_never_deleted_by_sql(permit):
    with pytest.raises(IntegrityError, match=rf"{permit.number} is a legal record"):
        with transaction.atomic():
            OccupancyPermit.objects.filter(pk=permit.pk)._raw_delete(connection.alias)
    assert OccupancyPermit.objects.filter(pk=permit.pk).exists()


def test_the_verification_token_is_never_changed_nor_deleted(permit):
    """The QR code printed on the permit leads to its token: it must keep leading there."""
    from occupancy.models import PermitVerification

    verification = PermitVerification.objects.get(permit=permit)
    with pytest.raises(IntegrityError, match="cannot be updated"):
        with transaction.atomic():
            PermitVerification.objects.filter(pk=verification.pk).update(token="guessable")
    with pytest.raises(IntegrityError, match="cannot be deleted"):
        with transaction.atomic():
            PermitVerification.objects.filter(pk=verification.pk).delete()
    assert PermitVerification.objects.get(permit=permit).token == verification.token


def test_who_signed_a_document_is_never_changed_nor_deleted(permit):
    from core.models import DocumentSignature

    signature = DocumentSignature.objects.create(
        municipality=permit.municipality,
        sha256="a" * 64,
        unsigned_sha256="b" * 64,
        unsigned_length=10,
        signer_common_name="Chief Building Official, Town of Alpha",
        certificate_subject="CN=Chief Building Official, Town of Alpha",
        certificate_sha256="c" * 64,
    )
    with pytest.raises(IntegrityError, match="cannot be updated"):
        with transaction.atomic():
            DocumentSignature.objects.filter(pk=signature.pk).update(
                signer_common_name="Someone else"
            )
    with pytest.raises(IntegrityError, match="cannot be deleted"):
        with transaction.atomic():
            DocumentSignature.objects.filter(pk=signature.pk).delete()


def test_a_permit_is_never_inserted_already_revoked(permit):
    with pytest.raises(IntegrityError, match="can only be issued"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE forged AS SELECT * FROM occupancy_occupancypermit WHERE id = %s",
                [permit.pk],
            )
            cursor.execute(
                "UPDATE forged SET id = id + 1000, number = 'OCC-FORGED', status = 'revoked'"
            )
            cursor.execute("INSERT INTO occupancy_occupancypermit SELECT * FROM forged")
