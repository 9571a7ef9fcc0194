"""The rules that decide which result a visit may get. One place, used by the form (to show
the refusal at the field) and by the close service (to enforce it under the row lock).

Outstanding matters (deficiencies not corrected, orders not complied with) are never lost:
- on one inspection they carry over from visit to visit (`outstanding_findings`,
  `outstanding_orders`) until a later visit, a follow-up visit after the inspection closed
  included, marks them resolved;
- on the application they carry forward to every later grant (`grant_outstanding_findings`,
  `grant_outstanding_orders`): "Granted and fully completed" is refused while any is open,
  whichever inspection recorded it, and a permit granted with outstanding matters lists them.
"""

import dataclasses

from django.db.models import Case, Q, QuerySet, Value, When
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from inspections.models import (
    FAILING_RESULTS,
    GENERAL_RESULTS,
    GRANT_RESULTS,
    OCCUPANCY_RESULTS,
    Finding,
    InspectionKind,
    Order,
    Visit,
    VisitResult,
    VisitStatus,
)

# A follow-up visit resolves the matters of a closed inspection: Passed when none is left,
# Failed while some stay outstanding (for another follow-up). It never grants.
FOLLOW_UP_RESULTS = (VisitResult.PASSED, VisitResult.FAILED)
FOLLOW_UP_LABELS = {
    VisitResult.PASSED: _("Passed: every outstanding matter is resolved"),
    VisitResult.FAILED: _("Failed: matters are still outstanding"),
}
FOLLOW_UP_GRANT_REFUSAL = _(
    "A follow-up visit never issues a permit: choose Passed when every matter is resolved, "
    "or Failed to keep the rest open."
)

# A matter recorded on a closed visit stays open until a closed visit resolved it: a marking
# made on a visit that is still open is a draft and may be undone.
_FINDING_OPEN = Q(corrected_on_visit__isnull=True) | Q(corrected_on_visit__status=VisitStatus.OPEN)
_ORDER_OPEN = Q(complied_on_visit__isnull=True) | Q(complied_on_visit__status=VisitStatus.OPEN)


def allowed_results(kind: str) -> tuple[VisitResult, ...]:
    return OCCUPANCY_RESULTS if kind == InspectionKind.OCCUPANCY else GENERAL_RESULTS


def visit_results(visit: Visit, kind: str) -> tuple[VisitResult, ...]:
    """The results this visit may get: a follow-up visit's, or those of its inspection's kind."""
    return FOLLOW_UP_RESULTS if visit.is_follow_up else allowed_results(kind)


def result_choices(visit: Visit, kind: str) -> list[tuple[str, str]]:
    """The results offered on the form, worded for a follow-up visit when it is one."""
    labels = FOLLOW_UP_LABELS if visit.is_follow_up else {}
    return [(r.value, labels.get(r, r.label)) for r in visit_results(visit, kind)]


def _own_findings(visit: Visit) -> Q:
    return Q(visit__inspection_id=visit.inspection_id, visit__sequence__lte=visit.sequence) & (
        Q(corrected_on_visit__isnull=True) | Q(corrected_on_visit__sequence__gt=visit.sequence)
    )


def _own_orders(visit: Visit) -> Q:
    return Q(visit__inspection_id=visit.inspection_id, visit__sequence__lte=visit.sequence) & (
        Q(complied_on_visit__isnull=True) | Q(complied_on_visit__sequence__gt=visit.sequence)
    )


def _of_the_application(visit: Visit) -> Q:
    """Recorded on a visit of the visit's application. ANDed to the OR of this inspection's
    matters and the other inspections' open ones, it lets PostgreSQL start from the
    application's few visits (index on visit) instead of reading every finding of the
    database to test the OR (7.6 s per query at 200,000 applications, make bench)."""
    return Q(
        visit__in=Visit.objects.filter(
            inspection__application_id=visit.inspection.application_id
        ).values("pk")
    )


def _elsewhere(visit: Visit) -> Q:
    """Recorded on a closed visit of another inspection of the visit's application."""
    return Q(
        visit__inspection__application_id=visit.inspection.application_id,
        visit__status=VisitStatus.CLOSED,
    ) & ~Q(visit__inspection_id=visit.inspection_id)


def outstanding_findings(visit: Visit):
    """Deficiencies not corrected: this visit's and those carried over from earlier visits."""
    return (
        Finding.objects.filter(_own_findings(visit), is_remark=False)
        .select_related("visit")
        .order_by("visit__sequence", "discovery_date", "id")
    )


def outstanding_orders(visit: Visit):
    """Orders of this inspection, up to this visit, not yet complied with."""
    return (
        Order.objects.filter(_own_orders(visit))
        .select_related("visit")
        .order_by("visit__sequence", "created_at", "id")
    )


def open_findings_of_application(application_id: int) -> QuerySet[Finding]:
    """Deficiencies recorded on a closed visit of any inspection of the application and not
    corrected on a closed visit."""
    return Finding.objects.filter(
        _FINDING_OPEN,
        visit__inspection__application_id=application_id,
        visit__status=VisitStatus.CLOSED,
        is_remark=False,
    )


def open_orders_of_application(application_id: int) -> QuerySet[Order]:
    """Orders issued on a closed visit of any inspection of the application and not complied
    with on a closed visit."""
    return Order.objects.filter(
        _ORDER_OPEN,
        visit__inspection__application_id=application_id,
        visit__status=VisitStatus.CLOSED,
    )


def has_open_matters(application) -> bool:
    """Whether any deficiency or order is still open on the application."""
    return (
        open_findings_of_application(application.pk).exists()
        or open_orders_of_application(application.pk).exists()
    )


def findings_open_elsewhere(visit: Visit) -> QuerySet[Finding]:
    """Deficiencies still open on the application's other inspections: a grant on this visit
    carries them forward."""
    return Finding.objects.filter(_elsewhere(visit) & _FINDING_OPEN, is_remark=False)


def orders_open_elsewhere(visit: Visit) -> QuerySet[Order]:
    """Orders still open on the application's other inspections."""
    return Order.objects.filter(_elsewhere(visit) & _ORDER_OPEN)


def _earlier_inspections_first(visit: Visit) -> list:
    """Matters carried forward from other inspections, oldest first, then this inspection's
    by visit (the order outstanding_findings and outstanding_orders use)."""
    own_last = Case(When(visit__inspection_id=visit.inspection_id, then=Value(1)), default=Value(0))
    return [own_last, "visit__inspection__created_at", "visit__inspection_id", "visit__sequence"]


def grant_outstanding_findings(visit: Visit) -> QuerySet[Finding]:
    """The deficiencies outstanding at a grant on this visit: this inspection's
    (outstanding_findings) and those still open on the application's other inspections."""
    return (
        Finding.objects.filter(
            _of_the_application(visit),
            _own_findings(visit) | (_elsewhere(visit) & _FINDING_OPEN),
            is_remark=False,
        )
        .select_related("visit__inspection__inspection_type")
        .order_by(*_earlier_inspections_first(visit), "discovery_date", "id")
    )


def grant_outstanding_orders(visit: Visit) -> QuerySet[Order]:
    """The orders outstanding at a grant on this visit: this inspection's (outstanding_orders)
    and those still open on the application's other inspections."""
    return (
        Order.objects.filter(
            _of_the_application(visit), _own_orders(visit) | (_elsewhere(visit) & _ORDER_OPEN)
        )
        .select_related("visit__inspection__inspection_type")
        .order_by(*_earlier_inspections_first(visit), "created_at", "id")
    )


@dataclasses.dataclass(frozen=True)
class OutstandingAt:
    """The outstanding matters at a visit, read once (`outstanding_at`) for everything one
    request asks of them: the result rules' counts, the confirmation's fingerprint, the
    permit's list. `for_grant`: with those carried forward from the application's other
    inspections (grant_outstanding_*), else this inspection's (outstanding_*)."""

    findings: list[Finding]
    orders: list[Order]
    for_grant: bool

    def counts(self, visit: Visit, *, here: bool) -> tuple[int, int]:
        """(deficiencies, orders) of the visit's own inspection (`here`), or of the other
        inspections (only known for a grant's list)."""
        if not here and not self.for_grant:
            raise ValueError("Only a grant's list holds the other inspections' matters.")

        def counted(matters) -> int:
            return sum(
                (matter.visit.inspection_id == visit.inspection_id) == here for matter in matters
            )

        return counted(self.findings), counted(self.orders)


def outstanding_at(visit: Visit, *, for_grant: bool) -> OutstandingAt:
    """The deficiencies and orders outstanding at this visit, read now (two queries)."""
    if for_grant:
        findings, orders = grant_outstanding_findings(visit), grant_outstanding_orders(visit)
    else:
        findings, orders = outstanding_findings(visit), outstanding_orders(visit)
    return OutstandingAt(findings=list(findings), orders=list(orders), for_grant=for_grant)


def _deficiencies(n: int) -> str:
    return ngettext("%(count)d deficiency", "%(count)d deficiencies", n) % {"count": n}


def _orders(n: int) -> str:
    return ngettext("%(count)d order", "%(count)d orders", n) % {"count": n}


def matters_phrase(deficiencies: int, orders: int) -> str:
    return gettext("%(deficiencies)s and %(orders)s") % {
        "deficiencies": _deficiencies(deficiencies),
        "orders": _orders(orders),
    }


def where_outstanding(findings: QuerySet[Finding], orders: QuerySet[Order]) -> str:
    """Where the matters were recorded, oldest inspection first, e.g.
    "Occupancy visit 1: 1 deficiency, 1 order; Framing visit 2: 1 order"."""
    places: dict[tuple, list[int]] = {}
    for rows, index in ((findings, 0), (orders, 1)):
        for place in rows.order_by().values_list(
            "visit__inspection__created_at",
            "visit__inspection_id",
            "visit__sequence",
            "visit__inspection__inspection_type__name",
        ):
            places.setdefault(place, [0, 0])[index] += 1
    parts = []
    for (_created, _pk, sequence, name), (deficiencies, orders_) in sorted(places.items()):
        counts = [
            _deficiencies(deficiencies) if deficiencies else "",
            _orders(orders_) if orders_ else "",
        ]
        parts.append(
            gettext("%(inspection)s visit %(sequence)s: %(matters)s")
            % {
                "inspection": name,
                "sequence": sequence,
                "matters": ", ".join(c for c in counts if c),
            }
        )
    return "; ".join(parts)


def _follow_up_refusal(*, result: str, deficiencies: int, orders: int) -> str | None:
    if result == VisitResult.PASSED and (deficiencies or orders):
        return gettext(
            "A follow-up visit passes only when every matter is resolved (%(matters)s still "
            "outstanding): mark them corrected or complied with, or choose Failed to keep them "
            "open."
        ) % {"matters": matters_phrase(deficiencies, orders)}
    if result == VisitResult.FAILED and not (deficiencies or orders):
        return gettext("Every outstanding matter is resolved: choose Passed.")
    return None


def _grant_refusal(
    *,
    visit: Visit,
    result: str,
    deficiencies: int,
    orders: int,
    matters: OutstandingAt | None = None,
) -> str | None:
    """The matters still open on the application's other inspections count too."""
    findings_elsewhere, orders_elsewhere = (
        findings_open_elsewhere(visit),
        orders_open_elsewhere(visit),
    )
    if matters is not None and matters.for_grant:
        deficiencies_elsewhere, orders_elsewhere_count = matters.counts(visit, here=False)
    else:
        deficiencies_elsewhere, orders_elsewhere_count = (
            findings_elsewhere.count(),
            orders_elsewhere.count(),
        )
    if result == VisitResult.GRANTED_FULL and (deficiencies_elsewhere or orders_elsewhere_count):
        here = (
            gettext("this inspection: %(matters)s; ")
            % {"matters": matters_phrase(deficiencies, orders)}
            if deficiencies or orders
            else ""
        )
        total = matters_phrase(
            deficiencies + deficiencies_elsewhere, orders + orders_elsewhere_count
        )
        return gettext(
            "Occupancy cannot be granted as fully completed while %(total)s are outstanding on "
            "this application (%(here)s%(where)s): resolve them on a follow-up visit of the "
            "inspection that recorded them, or choose Granted, but outstanding matters, or Not "
            "granted."
        ) % {
            "total": total,
            "here": here,
            "where": where_outstanding(findings_elsewhere, orders_elsewhere),
        }
    if result == VisitResult.GRANTED_FULL and (deficiencies or orders):
        return gettext(
            "Occupancy cannot be granted as fully completed while %(matters)s are outstanding: "
            "choose Granted, but outstanding matters, or Not granted."
        ) % {"matters": matters_phrase(deficiencies, orders)}
    if result == VisitResult.GRANTED_OUTSTANDING and not (
        deficiencies or orders or deficiencies_elsewhere or orders_elsewhere_count
    ):
        return gettext(
            "Granted, but outstanding matters needs at least one outstanding deficiency or "
            "order: record it, or choose Granted and fully completed."
        )
    return None


def result_refusal(
    *, visit: Visit, kind: str, result: str, matters: OutstandingAt | None = None
) -> str | None:
    """Why this result cannot be given to this visit, or None when it can. `matters`: the
    outstanding matters at the visit as the caller has just read them (outstanding_at),
    counted instead of asking the database again."""
    if result not in visit_results(visit, kind):
        if visit.is_follow_up and result in GRANT_RESULTS:
            return str(FOLLOW_UP_GRANT_REFUSAL)
        return gettext("Choose one of the results offered for this inspection.")
    if matters is not None:
        deficiencies, orders = matters.counts(visit, here=True)
    else:
        deficiencies = outstanding_findings(visit).count()
        orders = outstanding_orders(visit).count()
    if visit.is_follow_up:
        return _follow_up_refusal(result=result, deficiencies=deficiencies, orders=orders)
    if result in GRANT_RESULTS:
        return _grant_refusal(
            visit=visit, result=result, deficiencies=deficiencies, orders=orders, matters=matters
        )
    if result == VisitResult.PASSED and deficiencies:
        return gettext(
            "An inspection with an open deficiency cannot pass (%(count)s open): mark it "
            "corrected, turn it into a remark, or choose Failed."
        ) % {"count": deficiencies}
    return None


def result_refusals(
    *,
    visit: Visit,
    kind: str,
    result: str,
    failure_reason: str,
    matters: OutstandingAt | None = None,
) -> dict[str, str]:
    """The result rule set of a close, by form field ({"result": …, "failure_reason": …});
    empty when the visit may be closed with this result. visit_close enforces it and
    occupancy.rules.grant_refusals starts from it. `matters`: see result_refusal."""
    refusals = {}
    if refusal := result_refusal(visit=visit, kind=kind, result=result, matters=matters):
        refusals["result"] = refusal
    if result in FAILING_RESULTS and not failure_reason:
        refusals["failure_reason"] = gettext("Choose the reason the inspection was not passed.")
    return refusals
