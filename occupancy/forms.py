from django import forms
from django.forms.models import ModelChoiceIteratorValue
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.fields import IdChoiceField
from core.text_limits import BoundedCharField
from core.widgets import Textarea
from inspections import rules
from inspections.forms import DateInput, DistinctIdsMixin, VisitDraftForm
from inspections.models import GRANT_RESULTS, FailureReason, InspectionKind
from occupancy.confirmation import saved_grant_draft
from occupancy.models import (
    PERMIT_DESCRIPTION_MAX_LENGTH,
    ConditionMark,
    GrantDraft,
    OccupancyCondition,
    OccupancyPermitTemplate,
)
from occupancy.rules import (
    REVOCATION_REASON_MAX_LENGTH,
    REVOCATION_REASON_REQUIRED,
    GrantDetails,
    condition_field,
    grant_refusals,
    granted_on_refusal,
    revocation_refusals,
)
from occupancy.snapshot import VerifiedCondition


class VisitResultForm(DistinctIdsMixin, forms.Form):
    """Result for this visit and, for a grant, what the occupancy permit says. The
    refusals of occupancy.rules.grant_refusals are shown at their fields."""

    result = forms.ChoiceField(label=_("Result for this visit"), widget=forms.RadioSelect)
    failure_reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", "—"), *FailureReason.choices],
        required=False,
        help_text=_("Required when the result is Not granted or Failed."),
    )
    template = IdChoiceField(
        label=_("Template for occupancy permit PDF"),
        queryset=OccupancyPermitTemplate.objects.none(),
        required=False,
    )
    granted_on = forms.DateField(
        label=_("Occupancy granted date"), required=False, widget=DateInput()
    )
    description = BoundedCharField(
        label=_("Occupancy permit description"),
        required=False,
        max_length=PERMIT_DESCRIPTION_MAX_LENGTH,
        widget=Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the permit, e.g. the use and occupancy authorized."),
    )
    portion_of_building = forms.CharField(
        label=_("Portion of building"),
        required=False,
        max_length=300,
        help_text=_("Required for a partial permit, e.g. Ground floor, units 101–108."),
    )
    expires_on = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=DateInput(),
        help_text=_("Required for a temporary permit."),
    )

    id_prefix = "result"
    GRANT_FIELDS = ("template", "granted_on", "description", "portion_of_building", "expires_on")

    def __init__(self, *args, visit, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
        # Who is closing: a grant needs the permission to issue (occupancy.rules).
        self.user = user
        self.kind = visit.inspection.inspection_type.kind
        self.checklists: list[tuple[object, list[str]]] = []
        self.condition_fields: dict[str, int] = {}  # form field -> OccupancyCondition id
        self._templates: list[OccupancyPermitTemplate] | None = None
        self.fields["result"].choices = rules.result_choices(visit, self.kind)
        if self.kind == InspectionKind.OCCUPANCY and not visit.is_follow_up:
            self.fields["template"].queryset = (
                OccupancyPermitTemplate.objects.filter(
                    municipality_id=visit.inspection.application.municipality_id,
                    is_active=True,
                    permit_type__is_active=True,
                )
                .select_related("permit_type")
                .order_by("name")
            )
            self.fields["template"].empty_label = gettext("Choose a template")
            if not self.is_bound:
                self.initial.setdefault("granted_on", timezone.localdate())
            self._add_checklist_fields(visit.inspection.application.municipality_id)
        else:
            for name in self.GRANT_FIELDS:
                del self.fields[name]

    def _add_checklist_fields(self, municipality_id: int) -> None:
        """One Met / Not applicable / Not met choice per condition of every permit type the
        inspector may choose; the chosen template's type decides which are checked."""
        conditions = (
            OccupancyCondition.objects.filter(
                permit_type__municipality_id=municipality_id,
                permit_type__is_active=True,
                permit_type__templates__is_active=True,
                is_active=True,
            )
            .select_related("permit_type")
            .distinct()
            .order_by("permit_type__name", "display_order", "id")
        )
        by_type: dict[int, tuple[object, list[str]]] = {}
        for condition in conditions:
            name = condition_field(condition.pk)
            self.condition_fields[name] = condition.pk
            self.fields[name] = forms.ChoiceField(
                label=f"{condition.clause}: {condition.text}",
                choices=ConditionMark.choices,
                required=False,
                widget=forms.RadioSelect,
            )
            by_type.setdefault(condition.permit_type_id, (condition.permit_type, []))[1].append(
                name
            )
        self.checklists = list(by_type.values())

    def checklist_groups(self):
        """[(permit type, its bound condition fields)] for the template."""
        return [(kind, [self[name] for name in names]) for kind, names in self.checklists]

    def _templates_read_once(self) -> list[OccupancyPermitTemplate]:
        """The templates the page offers, read once for the select's options, the template →
        permit type map and whether there is any (issue 16: three queries before)."""
        if self._templates is None:
            field = self.fields["template"]
            self._templates = list(field.queryset)
            empty = [("", field.empty_label)] if field.empty_label is not None else []
            field.choices = empty + [
                (
                    ModelChoiceIteratorValue(template.pk, template),
                    field.label_from_instance(template),
                )
                for template in self._templates
            ]
        return self._templates

    def template_types(self) -> str:
        """template id → permit type id, for the page to show the chosen type's checklist."""
        return " ".join(
            f"{template.pk}:{template.permit_type_id}" for template in self._templates_read_once()
        )

    def has_templates(self) -> bool:
        """Whether an active template can be chosen (the page says so when none can)."""
        return bool(self._templates_read_once())

    def verified_conditions(self):
        """The chosen type's checklist as marked (what the permit lists), for a grant."""
        template = self.cleaned_data.get("template")
        if not self.is_grant() or template is None:
            return ()
        return VerifiedCondition.of_checklist(
            permit_type=template.permit_type, marks=self.condition_marks()
        )

    def condition_marks(self) -> dict[int, str]:
        """The checklist as marked: condition id -> mark, unmarked ones left out."""
        return {
            pk: self.cleaned_data[name]
            for name, pk in self.condition_fields.items()
            if self.cleaned_data.get(name)
        }

    @classmethod
    def from_saved_draft(cls, visit, *, user=None) -> "VisitResultForm":
        """The form bound to what was saved with Save draft, to validate it for the close.
        The grant draft it was read from stays on the form (`saved_draft`), for the
        confirmation's fingerprint of the same draft."""
        draft = saved_grant_draft(visit)
        data = {k: ("" if v is None else v) for k, v in cls._initial(visit, draft).items()}
        form = cls(data, visit=visit, user=user)
        form.saved_draft = draft
        return form

    @classmethod
    def initial_from_draft(cls, visit) -> dict:
        """The saved result and grant draft of the visit, as the form's initial data."""
        return cls._initial(
            visit, GrantDraft.objects.filter(visit=visit).select_related("template").first()
        )

    @staticmethod
    def _initial(visit, draft) -> dict:
        initial = {"result": visit.result, "failure_reason": visit.failure_reason}
        if draft is not None:
            saved = GrantDetails.of_draft(draft)
            initial.update(
                template=draft.template_id,
                granted_on=saved.granted_on,
                description=saved.description,
                portion_of_building=saved.portion_of_building,
                expires_on=saved.expires_on,
            )
            for pk, mark in saved.conditions.items():
                initial[condition_field(pk)] = mark
        return initial

    def clean_granted_on(self):
        granted_on = self.cleaned_data.get("granted_on")
        if refusal := granted_on_refusal(granted_on, self.visit.inspection.application):
            raise forms.ValidationError(refusal)
        return granted_on

    def clean_description(self):
        return (self.cleaned_data.get("description") or "").strip()

    def clean_portion_of_building(self):
        return (self.cleaned_data.get("portion_of_building") or "").strip()

    def validate_for_close(self, *, matters=None) -> bool:
        """Full validation for Finish and Close (a draft may be incomplete): the field
        checks, then occupancy.rules.grant_refusals, each refusal at its field. `matters`:
        the outstanding matters just read (inspections.rules.outstanding_at), if any."""
        self.is_valid()
        result = self.cleaned_data.get("result")
        if result is None:
            return False
        refusals = grant_refusals(
            visit=self.visit,
            result=result,
            failure_reason=self.cleaned_data.get("failure_reason", ""),
            grant=self.grant(),
            actor=self.user,
            matters=matters,
        )
        self.add_refusals(refusals)
        return not self.errors

    def grant(self) -> GrantDetails | None:
        """The grant fields as typed (None for a general inspection or a follow-up visit)."""
        if self.kind != InspectionKind.OCCUPANCY or self.visit.is_follow_up:
            return None
        data = self.cleaned_data
        return GrantDetails(
            template=data.get("template"),
            granted_on=data.get("granted_on"),
            description=data.get("description", ""),
            portion_of_building=data.get("portion_of_building", ""),
            expires_on=data.get("expires_on"),
            conditions=self.condition_marks(),
        )

    def add_refusals(self, refusals: dict[str, str]) -> None:
        """Show refusals of occupancy.rules.grant_refusals at their fields."""
        for field, message in refusals.items():
            if field not in self.errors:
                self.add_error(field if field in self.fields else None, message)

    def is_grant(self) -> bool:
        return self.cleaned_data.get("result") in GRANT_RESULTS

    def result_label(self) -> str:
        # As offered on the form (a follow-up visit words its results for what it resolves).
        return dict(self.fields["result"].choices)[self.cleaned_data["result"]]

    def failure_reason_label(self) -> str:
        return dict(self.fields["failure_reason"].choices).get(
            self.cleaned_data.get("failure_reason"), ""
        )


def visit_details_form(visit, data=None) -> VisitDraftForm:
    """Visit type, notes, site conditions and time used: inspections' form, shown in the
    Inspection & visit result section occupancy owns."""
    return VisitDraftForm(data, instance=visit)


class RevocationForm(forms.Form):
    """Revoke an issued occupancy permit: the reason and the date it takes effect, both
    printed on the notice of revocation. The refusals of occupancy.rules.revocation_refusals
    are shown at their fields (the app's Revoke page and the admin's use this form)."""

    reason = BoundedCharField(
        label=_("Reason for the revocation"),
        max_length=REVOCATION_REASON_MAX_LENGTH,
        widget=Textarea(attrs={"rows": 5}),
        error_messages={"required": REVOCATION_REASON_REQUIRED},
        help_text=_(
            "Printed on the notice of revocation and shown to anyone on the permit's "
            "public verification page: do not include personal information."
        ),
    )
    revoked_on = forms.DateField(
        label=_("Revoked effective"),
        widget=DateInput(),
        error_messages={"required": _("Enter the date the revocation takes effect.")},
    )

    def __init__(self, *args, permit, **kwargs):
        super().__init__(*args, **kwargs)
        self.permit = permit
        self.today = timezone.localdate()
        self.fields["revoked_on"].help_text = gettext(
            "Between the date the permit was granted (%(granted_on)s) and today (%(today)s)."
        ) % {"granted_on": f"{permit.granted_on:%Y-%m-%d}", "today": f"{self.today:%Y-%m-%d}"}
        if not self.is_bound:
            self.initial.setdefault("revoked_on", self.today)

    def clean(self):
        cleaned = super().clean()
        refusals = revocation_refusals(
            permit=self.permit,
            reason=cleaned.get("reason", ""),
            revoked_on=cleaned.get("revoked_on"),
            today=self.today,
        )
        self.add_refusals(refusals)
        return cleaned

    def add_refusals(self, refusals: dict[str, str]) -> None:
        """Show refusals of occupancy.rules.revocation_refusals (from clean() or from the
        service, under its lock) at their fields; a field already refused keeps its message."""
        for field, message in refusals.items():
            if field not in self.errors:
                self.add_error(field if field in self.fields else None, message)
