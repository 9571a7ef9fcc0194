"""The rules of Finish and Close with a grant, in one place: the result form shows each
refusal at its field, and visit_finish_and_close enforces the same function under the visit
lock (what the form checked may have changed in another tab meanwhile)."""

import dataclasses
import datetime

from django.utils import timezone

from inspections import rules as inspection_rules
from inspections.models import GRANT_RESULTS
from occupancy.models import OccupancyPermitTemplate


@dataclasses.dataclass(frozen=True)
class GrantDetails:
    """What the inspector chose for the permit: the template and what it prints."""

    template: OccupancyPermitTemplate | None
    granted_on: datetime.date | None
    description: str
    portion_of_building: str = ""
    expires_on: datetime.date | None = None


def granted_on_refusal(granted_on: datetime.date | None) -> str | None:
    if granted_on and granted_on > timezone.localdate():
        return "The occupancy granted date cannot be in the future."
    return None


def grant_refusals(
    *, visit, result: str, failure_reason: str = "", grant: GrantDetails | None = None
) -> dict[str, str]:
    """Why this visit cannot be closed with this result (and, for a grant, these permit
    details): {form field: message}, empty when the close may go ahead."""
    inspection = visit.inspection
    refusals = inspection_rules.result_refusals(
        visit=visit,
        kind=inspection.inspection_type.kind,
        result=result,
        failure_reason=failure_reason,
    )
    if result not in GRANT_RESULTS:
        return refusals
    if visit.is_follow_up:
        # Issue 13: a follow-up visit resolves outstanding matters, never issues a permit.
        refusals["result"] = inspection_rules.FOLLOW_UP_GRANT_REFUSAL
        return refusals
    grant = grant or GrantDetails(template=None, granted_on=None, description="")
    template = grant.template
    if template is None:
        refusals["template"] = "Choose the template for the occupancy permit PDF."
    elif (
        template.municipality_id != inspection.application.municipality_id
        or not template.is_active
        or not template.permit_type.is_active
    ):
        refusals["template"] = "Choose one of the municipality's active occupancy permit templates."
    if not grant.granted_on:
        refusals["granted_on"] = "Enter the date occupancy is granted."
    elif refusal := granted_on_refusal(grant.granted_on):
        refusals["granted_on"] = refusal
    if not grant.description.strip():
        refusals["description"] = "Describe the occupancy this permit grants."
    if template is not None:
        permit_type = template.permit_type
        if permit_type.needs_portion_of_building and not grant.portion_of_building.strip():
            refusals["portion_of_building"] = (
                f"A {permit_type.name} permit names the portion of the building it covers."
            )
        if permit_type.needs_expiry_date and not grant.expires_on:
            refusals["expires_on"] = f"A {permit_type.name} permit needs an expiry date."
    if grant.granted_on and grant.expires_on and grant.expires_on <= grant.granted_on:
        refusals["expires_on"] = "The expiry date must be after the granted date."
    return refusals
