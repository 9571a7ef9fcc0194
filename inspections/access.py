"""Loading inspections and what is recorded on them, scoped to the user's municipalities:
another municipality's object is a 404, a role without the permission gets a 403."""

from django.http import Http404

from inspections.models import Finding, Inspection, Order, Photo
from permits import access


def get_inspection(user, code: str, *, perm: str | None = None) -> Inspection:
    inspection = (
        Inspection.objects.select_related(
            "application__municipality", "inspection_type", "assigned_inspector"
        )
        .filter(code=code)
        .first()
    )
    if inspection is None:
        raise Http404("No such inspection.")
    access.check(user, inspection.application.municipality_id, perm)
    return inspection


def _get_visit_item(model, user, code: str, perm: str | None):
    item = (
        model.objects.select_related(
            "visit__inspection__application__municipality",
            "visit__inspection__inspection_type",
            "visit__closed_by",
        )
        .filter(code=code)
        .first()
    )
    if item is None:
        raise Http404("No such record.")
    access.check(user, item.visit.inspection.application.municipality_id, perm)
    return item


def get_finding(user, code: str, *, perm: str | None = None) -> Finding:
    return _get_visit_item(Finding, user, code, perm)


def get_order(user, code: str, *, perm: str | None = None) -> Order:
    return _get_visit_item(Order, user, code, perm)


def get_photo(user, code: str, *, perm: str | None = None) -> Photo:
    return _get_visit_item(Photo, user, code, perm)
