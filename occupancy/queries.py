"""Read functions other apps' pages use to show occupancy permits."""

from django.db.models import QuerySet
from django.http import Http404

from core import access
from occupancy.models import OccupancyPermit


def permits_for_application(*, application) -> QuerySet[OccupancyPermit]:
    return (
        OccupancyPermit.objects.filter(application=application)
        .select_related(
            "municipality", "permit_type", "issued_by", "visit__inspection__inspection_type"
        )
        .order_by("issued_at", "id")
    )


def permits_by_visit(*, visits) -> dict[int, OccupancyPermit]:
    """The permit issued on each of these visits, if any, in one query."""
    permits = OccupancyPermit.objects.filter(visit__in=visits).select_related(
        "municipality", "permit_type"
    )
    return {permit.visit_id: permit for permit in permits}


def get_permit(user, municipality_slug: str, number: str) -> OccupancyPermit:
    """An issued permit by its number, for a member of its municipality (else a 404)."""
    permit = (
        OccupancyPermit.objects.select_related("municipality")
        .filter(municipality__slug=municipality_slug, number=number)
        .first()
    )
    if permit is None:
        raise Http404("No such occupancy permit.")
    access.check(user, permit.municipality_id, None)
    return permit
