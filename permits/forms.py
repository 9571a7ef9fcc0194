from django import forms
from django.utils.translation import gettext_lazy as _

from core import list_filters
from permits.models import ApplicationStatus


class ApplicationSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search applications"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Number, address, roll number, applicant or owner"),
                "autocomplete": "off",
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *ApplicationStatus.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("All applications"))],
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filters the apps above permits register (core.list_filters), e.g. inspections'
        # "With overdue matters".
        self.fields["show"].choices = [
            ("", _("All applications")),
            *((f.name, f.label) for f in list_filters.filters("applications")),
        ]
