"""The rules that decide which result a visit may get. One place, used by the form (to show
the refusal at the field) and by the close service (to enforce it under the row lock)."""

from django.db.models import Q

from inspections.models import (
    FAILING_RESULTS,
    GENERAL_RESULTS,
    OCCUPANCY_RESULTS,
    Finding,
    InspectionKind,
    Order,
    Visit,
    VisitResult,
)


def allowed_results(kind: str) -> tuple[VisitResult, ...]:
    return OCCUPANCY_RESULTS if kind == InspectionKind.OCCUPANCY else GENERAL_RESULTS


def outstanding_findings(visit: Visit):
    """Deficiencies not corrected: this visit's and those carried over from earlier visits."""
    return (
        Finding.objects.filter(
            visit__inspection_id=visit.inspection_id,
            visit__sequence__lte=visit.sequence,
            is_remark=False,
        )
        .filter(
            Q(corrected_on_visit__isnull=True) | Q(corrected_on_visit__sequence__gt=visit.sequence)
        )
        .select_related("visit")
        .order_by("visit__sequence", "discovery_date", "id")
    )


def outstanding_orders(visit: Visit):
    """Orders of this inspection, up to this visit, not yet complied with."""
    return (
        Order.objects.filter(
            visit__inspection_id=visit.inspection_id, visit__sequence__lte=visit.sequence
        )
        .filter(
            Q(complied_on_visit__isnull=True) | Q(complied_on_visit__sequence__gt=visit.sequence)
        )
        .select_related("visit")
        .order_by("visit__sequence", "created_at", "id")
    )


def result_refusal(*, visit: Visit, kind: str, result: str) -> str | None:
    """Why this result cannot be given to this visit, or None when it can."""
    if result not in allowed_results(kind):
        return "Choose one of the results offered for this inspection."
    deficiencies = outstanding_findings(visit).count()
    orders = outstanding_orders(visit).count()
    if result == VisitResult.PASSED and deficiencies:
        return (
            f"An inspection with an open deficiency cannot pass ({deficiencies} open): "
            "mark it corrected, turn it into a remark, or choose Failed."
        )
    if result == VisitResult.GRANTED_FULL and (deficiencies or orders):
        return (
            f"Occupancy cannot be granted as fully completed while {deficiencies} "
            f"deficienc{'y' if deficiencies == 1 else 'ies'} and {orders} "
            f"order{'' if orders == 1 else 's'} are outstanding: choose "
            "Granted, but outstanding matters, or Not granted."
        )
    if result == VisitResult.GRANTED_OUTSTANDING and not (deficiencies or orders):
        return (
            "Granted, but outstanding matters needs at least one outstanding deficiency or "
            "order: record it, or choose Granted and fully completed."
        )
    return None


def result_refusals(*, visit: Visit, kind: str, result: str, failure_reason: str) -> dict[str, str]:
    """The result rule set of a close, by form field ({"result": …, "failure_reason": …});
    empty when the visit may be closed with this result. visit_close enforces it and
    occupancy.rules.grant_refusals starts from it."""
    refusals = {}
    if refusal := result_refusal(visit=visit, kind=kind, result=result):
        refusals["result"] = refusal
    if result in FAILING_RESULTS and not failure_reason:
        refusals["failure_reason"] = "Choose the reason the inspection was not passed."
    return refusals
