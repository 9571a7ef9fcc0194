"""Read functions for the BLDS open-data export."""

from occupancy.models import OccupancyPermit, PermitKind, PermitStatus


def co_issued_dates(*, municipality) -> dict[str, object]:
    """Permit number of the application → granted date of its first issued (not revoked)
    general occupancy permit: BLDS COIssuedDate."""
    permits = (
        OccupancyPermit.objects.filter(
            municipality=municipality,
            status=PermitStatus.ISSUED,
            permit_type__kind=PermitKind.GENERAL,
        )
        .order_by("issued_at", "id")
        .values_list("application__number", "granted_on")
    )
    dates: dict[str, object] = {}
    for number, granted_on in permits:
        dates.setdefault(number, granted_on)
    return dates
