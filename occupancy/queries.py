"""Read functions other apps' pages use to show occupancy permits."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext

from core import access
from occupancy.models import OccupancyPermit, OccupancyPermitRevocation

VIEW_PERMIT = "occupancy.view_occupancypermit"
REVOKE_PERMIT = "occupancy.revoke_occupancypermit"


def permits_for_application(*, application) -> QuerySet[OccupancyPermit]:
    """The application's permits with what the Occupancy section shows of them: the type and
    the revocation, if revoked (one query; the municipality is the application's). The
    snapshot, the largest column, is not read: the list shows none of it."""
    return (
        OccupancyPermit.objects.filter(application=application)
        .select_related("permit_type", "revocation")
        .defer("snapshot")
        .order_by("issued_at", "id")
    )


def permits_by_visit(*, visits) -> dict[int, OccupancyPermit]:
    """The permit issued on each of these visits, if any, in one query: what a link to it
    needs (its municipality's slug, its number, its revocation), not its snapshot."""
    permits = (
        OccupancyPermit.objects.filter(visit__in=visits)
        .select_related("municipality", "revocation")
        .defer("snapshot")
    )
    return {permit.visit_id: permit for permit in permits}


def get_permit(
    user, municipality_slug: str, number: str, *, perm: str | None = None
) -> OccupancyPermit:
    """An issued permit by its number, for a member of its municipality (else a 404) whose
    role has `perm` (else a 403)."""
    permit = (
        OccupancyPermit.objects.select_related("municipality", "application", "permit_type")
        .filter(municipality__slug=municipality_slug, number=number)
        .first()
    )
    if permit is None:
        raise Http404(gettext("No such occupancy permit."))
    access.check(user, permit.municipality_id, perm)
    return permit


def get_revocation(user, municipality_slug: str, number: str) -> OccupancyPermitRevocation:
    """The revocation of a permit by the permit's number, for a member of its municipality
    who may see its permits and their revocations (404 outside it, or when the permit is not
    revoked; else 403)."""
    permit = get_permit(user, municipality_slug, number, perm=VIEW_PERMIT)
    access.check(user, permit.municipality_id, "occupancy.view_occupancypermitrevocation")
    revocation = OccupancyPermitRevocation.objects.filter(permit=permit).first()
    if revocation is None:
        raise Http404(gettext("This occupancy permit is not revoked."))
    revocation.permit = permit
    return revocation


def revocation_of(permit) -> OccupancyPermitRevocation | None:
    """The permit's revocation, or None while it is in force."""
    if not permit.is_revoked:
        return None
    return OccupancyPermitRevocation.objects.select_related("revoked_by").filter(
        permit=permit
    ).first()
