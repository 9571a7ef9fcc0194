from django import forms

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
