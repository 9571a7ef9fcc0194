"""The rules of Finish and Close with a grant, in one place: the result form shows each
refusal at its field, and visit_finish_and_close enforces the same function under the visit
lock (what the form checked may have changed in another tab meanwhile).

A grant is refused unless (issue 13):
- the application has an issued building permit (its status and its permit-issued date);
- the occupancy granted date lies between that date and today;
- the inspections the municipality requires before occupancy of the application's type of
  work have passed (unless the permit type authorizes occupancy before completion);
- every condition of the permit type's checklist is marked Met or Not applicable.
"""

import dataclasses
import datetime

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import access
from inspections import rules as inspection_rules
from inspections.models import GRANT_RESULTS, Inspection, InspectionStatus
from occupancy.models import (
    ConditionMark,
    OccupancyCondition,
    OccupancyPermitTemplate,
    RequiredInspection,
)
from permits.models import ApplicationStatus

# An occupancy permit needs an issued building permit: before it there is no authorized work
# to occupy, and a closed file takes no new permit.
STATUSES_WITHOUT_BUILDING_PERMIT = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW)


@dataclasses.dataclass(frozen=True)
class GrantDetails:
    """What the inspector chose for the permit: the template and what it prints."""

    template: OccupancyPermitTemplate | None
    granted_on: datetime.date | None
    description: str
    portion_of_building: str = ""
    expires_on: datetime.date | None = None
    # Checklist marks: OccupancyCondition id -> ConditionMark value.
    conditions: dict[int, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of_draft(cls, draft) -> "GrantDetails":
        """What a visit's saved GrantDraft says, with its checklist marks."""
        return cls(
            template=draft.template,
            granted_on=draft.granted_on,
            description=draft.description,
            portion_of_building=draft.portion_of_building,
            expires_on=draft.expires_on,
            conditions={mark.condition_id: mark.mark for mark in draft.conditions.all()},
        )


def condition_field(condition_id: int) -> str:
    """The form field of a checklist condition, where its refusal is shown."""
    return f"condition_{condition_id}"


def application_refusal(application) -> str | None:
    """Why no occupancy permit can be issued on this application at all, or None."""
    if application.status == ApplicationStatus.CLOSED:
        return gettext("Application %(number)s is closed: no occupancy permit can be issued.") % {
            "number": application.number
        }
    if application.status in STATUSES_WITHOUT_BUILDING_PERMIT or not application.permit_issued_on:
        return gettext(
            "Occupancy cannot be granted: no building permit has been issued on application "
            "%(number)s (status %(status)s)."
        ) % {"number": application.number, "status": application.get_status_display()}
    return None


def missing_required_inspections(*, application) -> list[str]:
    """Names of the inspections required before occupancy of this application's type of work
    that have not passed (a general inspection is closed only once it passed; one under
    follow-up had been)."""
    # A retired type can no longer be added: it cannot stand in the way of every grant.
    required = RequiredInspection.objects.filter(
        municipality_id=application.municipality_id,
        work_type=application.work_type,
        inspection_type__is_active=True,
    ).select_related("inspection_type")
    passed = set(
        Inspection.objects.filter(
            # A follow-up of outstanding matters reopens an inspection that had passed.
            application=application,
            status__in=(InspectionStatus.CLOSED, InspectionStatus.FOLLOW_UP),
        ).values_list("inspection_type_id", flat=True)
    )
    return [r.inspection_type.name for r in required if r.inspection_type_id not in passed]


def checklist_refusals(*, permit_type, marks: dict[int, str]) -> dict[str, str]:
    """Each active condition of the type's checklist must be marked Met or Not applicable."""
    refusals = {}
    for condition in OccupancyCondition.objects.filter(permit_type=permit_type, is_active=True):
        mark = marks.get(condition.pk, "")
        if mark == ConditionMark.NOT_MET:
            refusals[condition_field(condition.pk)] = gettext(
                "%(clause)s is not met: occupancy cannot be granted."
            ) % {"clause": condition.clause}
        elif mark not in (ConditionMark.MET, ConditionMark.NOT_APPLICABLE):
            refusals[condition_field(condition.pk)] = gettext(
                "Mark %(clause)s Met or Not applicable."
            ) % {"clause": condition.clause}
    return refusals


def granted_on_refusal(granted_on: datetime.date | None, application=None) -> str | None:
    if granted_on and granted_on > timezone.localdate():
        return gettext("The occupancy granted date cannot be in the future.")
    issued_on = application.permit_issued_on if application is not None else None
    if granted_on and issued_on and granted_on < issued_on:
        return gettext(
            "The occupancy granted date cannot be before the building permit was issued "
            "(%(issued_on)s)."
        ) % {"issued_on": f"{issued_on:%Y-%m-%d}"}
    return None


ISSUE_PERMIT = "occupancy.issue_occupancypermit"


def grant_refusals(
    *,
    visit,
    result: str,
    failure_reason: str = "",
    grant: GrantDetails | None = None,
    actor=None,
    matters: inspection_rules.OutstandingAt | None = None,
) -> dict[str, str]:
    """Why this visit cannot be closed with this result (and, for a grant, these permit
    details): {form field: message}, empty when the close may go ahead. With `actor`, a
    grant also needs the permission to issue an occupancy permit in the municipality.
    `matters`: the outstanding matters the caller has just read (inspections.rules
    .outstanding_at), counted instead of asked for again."""
    inspection = visit.inspection
    refusals = inspection_rules.result_refusals(
        visit=visit,
        kind=inspection.inspection_type.kind,
        result=result,
        failure_reason=failure_reason,
        matters=matters,
    )
    if result not in GRANT_RESULTS:
        return refusals
    if visit.is_follow_up:
        # Issue 13: a follow-up visit resolves outstanding matters, never issues a permit.
        refusals["result"] = inspection_rules.FOLLOW_UP_GRANT_REFUSAL
        return refusals
    application = inspection.application
    if actor is not None and not access.can(actor, application.municipality_id, ISSUE_PERMIT):
        refusals["result"] = gettext(
            "Your role does not allow issuing an occupancy permit: record the visit and "
            "ask an inspector or the chief building official to grant occupancy."
        )
        return refusals
    if refusal := application_refusal(application):
        # Nothing else matters: say the one thing that must change first.
        refusals.setdefault("result", refusal)
        return refusals
    grant = grant or GrantDetails(template=None, granted_on=None, description="")
    template = grant.template
    if template is None:
        refusals["template"] = gettext("Choose the template for the occupancy permit PDF.")
    elif (
        template.municipality_id != inspection.application.municipality_id
        or not template.is_active
        or not template.permit_type.is_active
    ):
        refusals["template"] = gettext(
            "Choose one of the municipality's active occupancy permit templates."
        )
    if not grant.granted_on:
        refusals["granted_on"] = gettext("Enter the date occupancy is granted.")
    elif refusal := granted_on_refusal(grant.granted_on, inspection.application):
        refusals["granted_on"] = refusal
    if not grant.description.strip():
        refusals["description"] = gettext("Describe the occupancy this permit grants.")
    if template is not None:
        permit_type = template.permit_type
        if permit_type.needs_portion_of_building and not grant.portion_of_building.strip():
            refusals["portion_of_building"] = gettext(
                "A %(permit_type)s permit names the portion of the building it covers."
            ) % {"permit_type": permit_type.name}
        if permit_type.needs_expiry_date and not grant.expires_on:
            refusals["expires_on"] = gettext("A %(permit_type)s permit needs an expiry date.") % {
                "permit_type": permit_type.name
            }
        if permit_type.needs_required_inspections and "result" not in refusals:
            if missing := missing_required_inspections(application=application):
                refusals["result"] = gettext(
                    "Occupancy cannot be granted before the inspections required for "
                    "%(work_type)s have passed: %(inspections)s."
                ) % {
                    "work_type": application.get_work_type_display(),
                    "inspections": ", ".join(missing),
                }
        refusals.update(checklist_refusals(permit_type=permit_type, marks=grant.conditions))
    if grant.granted_on and grant.expires_on and grant.expires_on <= grant.granted_on:
        refusals["expires_on"] = gettext("The expiry date must be after the granted date.")
    return refusals


# Revocation (issue 14). The notice says from when the permit no longer authorizes occupancy:
# never before the permit existed, never a date still to come (a future revocation would be
# shown as Revoked while it still authorizes occupancy).
REVOCATION_REASON_REQUIRED = _("Write the reason for the revocation.")
REVOCATION_REASON_MAX_LENGTH = 5000
REVOCATION_BEFORE_GRANT = _("A permit cannot be revoked before the date it was granted.")
REVOCATION_IN_FUTURE = _("A revocation cannot take effect after today.")


def revocation_already_done(permit) -> str:
    return gettext("Occupancy permit %(number)s is already revoked.") % {"number": permit.number}


def revocation_refusals(
    *, permit, reason: str, revoked_on: datetime.date | None, today: datetime.date | None = None
) -> dict[str, str]:
    """Why this permit cannot be revoked with this reason and effective date: {form field:
    message} (NON_FIELD_ERRORS for the permit itself), empty when it may be revoked. The
    revocation form shows them at the fields; occupancy_permit_revoke enforces the same
    function under the permit's lock."""
    if permit.is_revoked:
        # Nothing else matters: a permit is revoked once.
        return {NON_FIELD_ERRORS: revocation_already_done(permit)}
    today = today or timezone.localdate()
    refusals = {}
    if not (reason or "").strip():
        refusals["reason"] = REVOCATION_REASON_REQUIRED
    elif len(reason) > REVOCATION_REASON_MAX_LENGTH:
        refusals["reason"] = gettext(
            "Keep the reason within %(limit)s characters (it has %(length)s)."
        ) % {"limit": REVOCATION_REASON_MAX_LENGTH, "length": len(reason)}
    if revoked_on is None:
        refusals["revoked_on"] = gettext("Enter the date the revocation takes effect.")
    elif revoked_on < permit.granted_on:
        refusals["revoked_on"] = REVOCATION_BEFORE_GRANT
    elif revoked_on > today:
        refusals["revoked_on"] = REVOCATION_IN_FUTURE
    return refusals
