"""The confirmation step of Finish and Close is bound to the draft it showed.

"Yes, close the inspection" posts the fingerprint of the draft on the page; the close goes
ahead only when the visit's draft still has that fingerprint (checked once, by
occupancy.services.visit_finish_and_close under the visit lock). Otherwise a draft saved
meanwhile in another tab, or by another inspector, would be issued unseen.
"""

import dataclasses
import datetime
import hashlib
import hmac
import json

from inspections import rules as inspection_rules
from inspections.models import GRANT_RESULTS
from occupancy.models import GrantDraft
from occupancy.rules import GrantDetails


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _matters_shown(visit):
    """The outstanding matters the page lists: for a grant, with those carried forward from
    the application's other inspections (what the permit prints)."""
    if visit.result in GRANT_RESULTS:
        return (
            inspection_rules.grant_outstanding_findings(visit),
            inspection_rules.grant_outstanding_orders(visit),
        )
    return inspection_rules.outstanding_findings(visit), inspection_rules.outstanding_orders(visit)


def draft_fingerprint(
    visit, *, matters: tuple[list, list] | None = None, matters_for_grant: bool = False
) -> str:
    """SHA-256 (hex) of everything the confirmation page shows and the close would use,
    read from the database: the visit's saved result and details (internal notes too: they
    are part of the draft), the grant draft with its template's current version and its
    checklist marks, and the outstanding matters listed (what each says and whether it is
    corrected or complied). `matters` (findings, orders): the list the page just read
    (for a grant when `matters_for_grant`), used instead of reading it again when it is the
    list of the visit's saved result."""
    draft = (
        GrantDraft.objects.filter(visit_id=visit.pk).select_related("template__permit_type").first()
    )
    grant = None
    if draft is not None:
        template = draft.template
        grant = {
            "template": None
            if template is None
            else {
                "id": template.pk,
                "version": template.version,
                "name": template.name,
                "permit_type": [template.permit_type_id, template.permit_type.name],
            },
            "granted_on": _date(draft.granted_on),
            "description": draft.description,
            "portion_of_building": draft.portion_of_building,
            "expires_on": _date(draft.expires_on),
            # The checklist as marked, with the wording the permit prints (by condition, not
            # by row: Save draft replaces the rows even when nothing changed).
            "conditions": sorted(
                [mark.condition_id, mark.condition.clause, mark.condition.text, mark.mark]
                for mark in draft.conditions.select_related("condition")
            ),
        }
    if matters is None or matters_for_grant != (visit.result in GRANT_RESULTS):
        matters = _matters_shown(visit)
    findings, orders = matters
    shown = {
        "visit": {
            "id": visit.pk,
            "sequence": visit.sequence,
            "result": visit.result,
            "failure_reason": visit.failure_reason,
            "visit_type": visit.visit_type,
            "site_conditions": visit.site_conditions,
            "internal_notes": visit.internal_notes,
            "time_used_minutes": visit.time_used_minutes,
        },
        "grant": grant,
        "findings": [
            {
                "id": finding.pk,
                "discovery_date": _date(finding.discovery_date),
                "description": finding.description,
                "corrected_on_visit": finding.corrected_on_visit_id,
            }
            for finding in findings
        ],
        "orders": [
            {
                "id": order.pk,
                "order_type": order.order_type,
                "issued_to": order.issued_to,
                "description": order.description,
                "comply_by": _date(order.comply_by),
                "complied_on_visit": order.complied_on_visit_id,
            }
            for order in orders
        ],
    }
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def draft_unchanged(*, visit, fingerprint: str | None) -> bool:
    """Whether the visit's draft is still the one `fingerprint` was taken of (False when
    no fingerprint was given, e.g. a page opened before confirmations carried one)."""
    if not fingerprint:
        return False
    return hmac.compare_digest(draft_fingerprint(visit).encode(), fingerprint.encode())


def arguments_match_draft(*, visit, result: str, failure_reason: str, grant) -> bool:
    """Whether what the close was asked to issue is the visit's saved draft: the fingerprint
    binds the page to the saved draft, this binds the close's arguments to it too (a draft
    changed and changed back between the view's read and the lock would otherwise issue
    what the arguments say)."""
    if (visit.result, visit.failure_reason) != (result, failure_reason or ""):
        return False
    draft = GrantDraft.objects.filter(visit_id=visit.pk).select_related("template").first()
    if grant is None:
        return result not in GRANT_RESULTS
    if draft is None:
        return False
    marked = {pk: mark for pk, mark in grant.conditions.items() if mark}
    return GrantDetails.of_draft(draft) == dataclasses.replace(grant, conditions=marked)
