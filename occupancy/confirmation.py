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

from django.db.models import Prefetch

from inspections import rules as inspection_rules
from inspections.models import GRANT_RESULTS
from occupancy.models import GrantDraft, GrantDraftCondition
from occupancy.rules import GrantDetails


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def saved_grant_draft(visit) -> GrantDraft | None:
    """The visit's saved grant draft with its template and permit type, and its checklist
    marks with their conditions (two queries): what the fingerprint and
    arguments_match_draft read, once for both."""
    return (
        GrantDraft.objects.filter(visit_id=visit.pk)
        .select_related("template__permit_type")
        .prefetch_related(
            Prefetch("conditions", queryset=GrantDraftCondition.objects.select_related("condition"))
        )
        .first()
    )


_NOT_READ = object()


def draft_fingerprint(
    visit, *, matters: inspection_rules.OutstandingAt | None = None, draft=_NOT_READ
) -> str:
    """SHA-256 (hex) of everything the confirmation page shows and the close would use,
    read from the database: the visit's saved result and details (internal notes too: they
    are part of the draft), the grant draft with its template's current version and its
    checklist marks, and the outstanding matters listed (what each says and whether it is
    corrected or complied). `matters` (inspections.rules.outstanding_at) and `draft`
    (saved_grant_draft, None when there is none): what the caller has just read, used
    instead of reading it again; `matters` only when it is the list of the visit's saved
    result (a grant's, or this inspection's)."""
    if draft is _NOT_READ:
        draft = saved_grant_draft(visit)
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
                for mark in draft.conditions.all()
            ),
        }
    for_grant = visit.result in GRANT_RESULTS
    if matters is None or matters.for_grant != for_grant:
        matters = inspection_rules.outstanding_at(visit, for_grant=for_grant)
    findings, orders = matters.findings, matters.orders
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


def draft_unchanged(
    *,
    visit,
    fingerprint: str | None,
    matters: inspection_rules.OutstandingAt | None = None,
    draft=_NOT_READ,
) -> bool:
    """Whether the visit's draft is still the one `fingerprint` was taken of (False when
    no fingerprint was given, e.g. a page opened before confirmations carried one).
    `matters` and `draft`: see draft_fingerprint."""
    if not fingerprint:
        return False
    now = draft_fingerprint(visit, matters=matters, draft=draft)
    return hmac.compare_digest(now.encode(), fingerprint.encode())


def arguments_match_draft(
    *, visit, result: str, failure_reason: str, grant, draft=_NOT_READ
) -> bool:
    """Whether what the close was asked to issue is the visit's saved draft: the fingerprint
    binds the page to the saved draft, this binds the close's arguments to it too (a draft
    changed and changed back between the view's read and the lock would otherwise issue
    what the arguments say)."""
    if (visit.result, visit.failure_reason) != (result, failure_reason or ""):
        return False
    if draft is _NOT_READ:
        draft = saved_grant_draft(visit)
    if grant is None:
        return result not in GRANT_RESULTS
    if draft is None:
        return False
    marked = {pk: mark for pk, mark in grant.conditions.items() if mark}
    return GrantDetails.of_draft(draft) == dataclasses.replace(grant, conditions=marked)
