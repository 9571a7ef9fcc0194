"""The input boundary of inspection requests: what a form refuses is refused at its field
with the same rule functions the services enforce (scheduling.rules)."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.fields import IdChoiceField
from core.people import person_name
from core.text_limits import BoundedCharField
from core.widgets import Textarea
from inspections.models import InspectionType
from scheduling import rules
from scheduling.models import HalfDay, InspectionRequest

DECLINE_REASON_MAX_LENGTH = InspectionRequest._meta.get_field("decline_reason").max_length
CANCEL_REASON_MAX_LENGTH = InspectionRequest._meta.get_field("cancel_reason").max_length


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RefusalsMixin:
    def add_refusals(self, refusals: dict[str, str]) -> None:
        """Show a rule's refusals at their fields (the form's own errors first)."""
        for field, message in refusals.items():
            if field not in self.errors:
                self.add_error(field if field in self.fields else None, message)


class InspectionRequestForm(RefusalsMixin, forms.ModelForm):
    inspection_type = IdChoiceField(
        label=_("Inspection type"),
        queryset=InspectionType.objects.none(),
        help_text=_(
            "The application's inspection of this type that is not yet closed is the one "
            "visited; without one, it is added."
        ),
    )

    class Meta:
        model = InspectionRequest
        fields = [
            "inspection_type",
            "requested_date",
            "half_day",
            "site_contact_name",
            "site_contact_phone",
            "access_notes",
            "notify_email",
        ]
        labels = {
            "requested_date": _("Requested date"),
            "half_day": _("Morning or afternoon"),
            "site_contact_name": _("Site contact"),
            "site_contact_phone": _("Site contact's phone"),
            "access_notes": _("Access notes"),
            "notify_email": _("E-mail for confirmations"),
        }
        help_texts = {
            "access_notes": _("E.g. the lockbox code, a dog on site, use the side door."),
            "notify_email": _(
                "Told when the inspection is confirmed, moved or declined, and of its result. "
                "The applicant's address unless you give another; empty: nobody."
            ),
        }
        widgets = {
            "requested_date": DateInput(),
            "half_day": forms.RadioSelect(),
            "site_contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "access_notes": Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = application
        self.fields["inspection_type"].queryset = InspectionType.objects.filter(
            municipality_id=application.municipality_id, is_active=True
        ).order_by("display_order", "name")
        earliest = rules.earliest_request_date(application.municipality)
        self.fields["requested_date"].help_text = gettext(
            "A weekday that is not a holiday, from %(day)s."
        ) % {"day": rules.day_label(earliest, year=True)}
        self.fields["requested_date"].widget.attrs["min"] = earliest.isoformat()
        self.fields["half_day"].choices = HalfDay.choices
        self.fields["notify_email"].initial = application.applicant_email
        self.fields["notify_email"].widget.attrs["autocomplete"] = "email"

    def clean(self):
        cleaned = super().clean()
        if "requested_date" in cleaned:
            self.add_refusals(
                rules.request_refusals(
                    municipality=self.application.municipality,
                    application=self.application,
                    inspection_type=cleaned.get("inspection_type"),
                    requested_date=cleaned["requested_date"],
                )
            )
        return cleaned

    def _post_clean(self):
        # The request's other fields (application, inspection, status) are the service's: the
        # model's own validation would refuse them missing here.
        pass


class AssignForm(RefusalsMixin, forms.Form):
    """Confirm (or move) a request: the inspector, the day and the half day."""

    inspector = forms.TypedChoiceField(label=_("Inspector"), coerce=int)
    day = forms.DateField(label=_("Day"), widget=DateInput())
    half_day = forms.ChoiceField(label=_("Morning or afternoon"), choices=HalfDay.choices)

    def __init__(self, *args, request: InspectionRequest, inspectors, **kwargs):
        kwargs.setdefault("auto_id", f"{request.code}_%s")
        kwargs.setdefault(
            "initial",
            {
                "inspector": request.assigned_inspector_id,
                "day": request.day,
                "half_day": request.half_day,
            },
        )
        super().__init__(*args, **kwargs)
        self.request = request
        # A list read once for the page (one query for every form of the Dispatch page).
        self.inspectors = {user.pk: user for user in inspectors}
        self.fields["inspector"].choices = [("", gettext("Choose…"))] + [
            (user.pk, person_name(user)) for user in inspectors
        ]

    def clean_inspector(self):
        return self.inspectors[self.cleaned_data["inspector"]]

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("day")
        if day is not None:
            refusal = rules.day_refusals(municipality=self.request.municipality, day=day)
            if refusal:
                self.add_error("day", refusal)
        return cleaned


class DeclineForm(forms.Form):
    reason = BoundedCharField(
        label=_("Reason for declining"),
        max_length=DECLINE_REASON_MAX_LENGTH,
        help_text=_("The requester is told, e.g. “The permit is not issued yet”."),
        error_messages={"required": _("Give the reason for declining: the requester is told.")},
        widget=Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, request: InspectionRequest, **kwargs):
        kwargs.setdefault("auto_id", f"decline_{request.code}_%s")
        super().__init__(*args, **kwargs)


class CancelForm(forms.Form):
    """Cancel a request, from the Work view's Inspection requests section or Dispatch: the
    reason, and which of the two pages to go back to."""

    reason = BoundedCharField(
        label=_("Reason for cancelling"),
        max_length=CANCEL_REASON_MAX_LENGTH,
        help_text=_("The requester is told, e.g. “The owner asked to cancel: the work is late”."),
        error_messages={"required": _("Give the reason for cancelling: the requester is told.")},
        widget=Textarea(attrs={"rows": 2}),
    )
    back = forms.ChoiceField(
        choices=[("application", "application"), ("dispatch", "dispatch")],
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, request: InspectionRequest, **kwargs):
        kwargs.setdefault("auto_id", f"cancel_{request.code}_%s")
        super().__init__(*args, **kwargs)
