from django import forms
from django.utils import timezone

from core.fields import IdChoiceField
from inspections import rules
from inspections.forms import DateInput, DistinctIdsMixin
from inspections.models import FAILING_RESULTS, GRANT_RESULTS, FailureReason, InspectionKind
from occupancy.models import OccupancyPermitTemplate


class VisitResultForm(DistinctIdsMixin, forms.Form):
    """Result for this visit and, for a grant, what the occupancy permit says. The
    refusals of inspections.rules are shown at the Result field."""

    result = forms.ChoiceField(label="Result for this visit", widget=forms.RadioSelect)
    failure_reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "—"), *FailureReason.choices],
        required=False,
        help_text="Required when the result is Not granted or Failed.",
    )
    template = IdChoiceField(
        label="Template for occupancy permit PDF",
        queryset=OccupancyPermitTemplate.objects.none(),
        required=False,
    )
    granted_on = forms.DateField(label="Occupancy granted date", required=False, widget=DateInput())
    description = forms.CharField(
        label="Occupancy permit description",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on the permit, e.g. the use and occupancy authorized.",
    )
    portion_of_building = forms.CharField(
        label="Portion of building",
        required=False,
        max_length=300,
        help_text="Required for a partial permit, e.g. Ground floor, units 101–108.",
    )
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=DateInput(),
        help_text="Required for a temporary permit.",
    )

    id_prefix = "result"
    GRANT_FIELDS = ("template", "granted_on", "description", "portion_of_building", "expires_on")

    def __init__(self, *args, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
        self.kind = visit.inspection.inspection_type.kind
        self.fields["result"].choices = [
            (r.value, r.label) for r in rules.allowed_results(self.kind)
        ]
        if self.kind == InspectionKind.OCCUPANCY:
            self.fields["template"].queryset = (
                OccupancyPermitTemplate.objects.filter(
                    municipality_id=visit.inspection.application.municipality_id,
                    is_active=True,
                    permit_type__is_active=True,
                )
                .select_related("permit_type")
                .order_by("name")
            )
            self.fields["template"].empty_label = "Choose a template"
            if not self.is_bound:
                self.initial.setdefault("granted_on", timezone.localdate())
        else:
            for name in self.GRANT_FIELDS:
                del self.fields[name]

    @classmethod
    def initial_from_draft(cls, visit) -> dict:
        draft = dict(visit.grant_draft or {})
        return {"result": visit.result, "failure_reason": visit.failure_reason, **draft}

    def clean_granted_on(self):
        granted_on = self.cleaned_data.get("granted_on")
        if granted_on and granted_on > timezone.localdate():
            raise forms.ValidationError("The occupancy granted date cannot be in the future.")
        return granted_on

    def clean_description(self):
        return (self.cleaned_data.get("description") or "").strip()

    def clean_portion_of_building(self):
        return (self.cleaned_data.get("portion_of_building") or "").strip()

    def validate_for_close(self) -> bool:
        """Full validation for Finish and Close (a draft may be incomplete)."""
        self.is_valid()  # field errors first; the rules below add theirs to the same form
        data = self.cleaned_data
        result = data.get("result")
        if result is None:
            return False
        refusal = rules.result_refusal(visit=self.visit, kind=self.kind, result=result)
        if refusal:
            self.add_error("result", refusal)
        if result in FAILING_RESULTS and not data.get("failure_reason"):
            self.add_error("failure_reason", "Choose the reason the inspection was not passed.")
        if result in GRANT_RESULTS:
            template = data.get("template")
            if template is None and "template" not in self.errors:
                self.add_error("template", "Choose the template for the occupancy permit PDF.")
            if not data.get("granted_on") and "granted_on" not in self.errors:
                self.add_error("granted_on", "Enter the date occupancy is granted.")
            if not data.get("description"):
                self.add_error("description", "Describe the occupancy this permit grants.")
            if template is not None:
                permit_type = template.permit_type
                if permit_type.needs_portion_of_building and not data.get("portion_of_building"):
                    self.add_error(
                        "portion_of_building",
                        f"A {permit_type.name} permit names the portion of the building it covers.",
                    )
                if permit_type.needs_expiry_date and not data.get("expires_on"):
                    self.add_error(
                        "expires_on", f"A {permit_type.name} permit needs an expiry date."
                    )
            granted_on, expires_on = data.get("granted_on"), data.get("expires_on")
            if granted_on and expires_on and expires_on <= granted_on:
                self.add_error("expires_on", "The expiry date must be after the granted date.")
        return not self.errors

    def draft(self) -> dict:
        """The grant fields as JSON for Visit.grant_draft."""
        data = self.cleaned_data
        if self.kind != InspectionKind.OCCUPANCY:
            return {}
        template = data.get("template")
        return {
            "template": template.pk if template else None,
            "granted_on": data["granted_on"].isoformat() if data.get("granted_on") else None,
            "description": data.get("description", ""),
            "portion_of_building": data.get("portion_of_building", ""),
            "expires_on": data["expires_on"].isoformat() if data.get("expires_on") else None,
        }
