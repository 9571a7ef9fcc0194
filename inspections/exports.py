"""Read functions for the BLDS open-data export: plain rows, nothing internal.

Only what a municipality may publish leaves here: no internal notes, no site conditions, no
finding or order text (they can name people), no photos.
"""

from django.utils import timezone, translation

from inspections.models import FAILING_RESULTS, FailureReason, Visit, VisitResult, VisitStatus

# BLDS ResultMapped: a full grant is Passed, a grant with outstanding matters is Partial.
RESULT_MAPPED = {
    VisitResult.GRANTED_FULL: "Passed",
    VisitResult.GRANTED_OUTSTANDING: "Partial",
    VisitResult.NOT_GRANTED: "Rejected",
    VisitResult.PASSED: "Passed",
    VisitResult.FAILED: "Rejected",
}


def blds_inspection_rows(*, municipality) -> list[dict]:
    """One row per closed visit of the municipality's inspections, oldest first: the permit
    number, the inspection type (its name and BLDS type), the result (its label and BLDS
    value), the inspected date, whether it is a final inspection and needs a re-inspection."""
    visits = (
        Visit.objects.filter(
            inspection__application__municipality=municipality, status=VisitStatus.CLOSED
        )
        .order_by("inspection__application__number", "started_at", "id")
        .values_list(
            "inspection__application__number",
            "inspection__inspection_type__name",
            "inspection__inspection_type__blds_type",
            "result",
            "failure_reason",
            "started_at",
        )
    )
    # An open-data standard's file: the labels as they read in English, whoever exports it.
    with translation.override("en-ca"):
        results = {value: str(label) for value, label in VisitResult.choices}
        reasons = {value: str(label) for value, label in FailureReason.choices}
    rows = []
    for number, type_name, blds_type, result, failure_reason, started_at in visits:
        rows.append(
            {
                "permit_number": number,
                "inspection_type": type_name,
                "inspection_type_mapped": blds_type,
                "result": results.get(result, result),
                "result_mapped": RESULT_MAPPED.get(result, ""),
                "inspected_on": timezone.localtime(started_at).date(),
                "final": blds_type.endswith("Final"),
                "reinspection": result in FAILING_RESULTS,
                "failure_reason": reasons.get(failure_reason, ""),
            }
        )
    return rows
