from django import forms

from core import list_filters
from permits.models import ApplicationStatus


class ApplicationSearchForm(forms.Form):
    q = forms.CharField(
        label="Search applications",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Number, address, roll number, applicant or owner",
                "autocomplete": "off",
            }
        ),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "All statuses"), *ApplicationStatus.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    show = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "All applications")],
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filters the apps above permits register (core.list_filters), e.g. inspections'
        # "With overdue matters".
        self.fields["show"].choices = [
            ("", "All applications"),
            *((f.name, f.label) for f in list_filters.filters("applications")),
        ]
