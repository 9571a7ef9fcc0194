from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from occupancy.models import OccupancyPermitTemplate, OccupancyPermitType
from occupancy.numbering import NumberFormatError, check_number_format, format_number
from occupancy.template_validation import validate_template_body


class OccupancyPermitTypeForm(forms.ModelForm):
    class Meta:
        model = OccupancyPermitType
        fields = [
            "municipality",
            "name",
            "kind",
            "is_active",
            "prefix",
            "number_format",
            "sequence_key",
            "restart_each_year",
            "needs_portion_of_building",
            "needs_expiry_date",
        ]
        help_texts = {
            "number_format": "Tokens: {prefix}, {year} and {seq}; a width pads the sequence "
            "with zeros, e.g. {prefix}-{year}-{seq:04} gives OCC-2026-0007. Changing the "
            "format never renumbers permits already issued.",
        }

    def clean_number_format(self):
        number_format = self.cleaned_data["number_format"].strip()
        try:
            check_number_format(number_format)
        except NumberFormatError as exc:
            raise ValidationError(str(exc)) from None
        return number_format

    def clean(self):
        cleaned = super().clean()
        number_format = cleaned.get("number_format")
        if number_format and "{year}" not in number_format and cleaned.get("restart_each_year"):
            self.add_error(
                "number_format",
                "A sequence that restarts each year needs {year} in the format, or numbers "
                "would repeat.",
            )
        if number_format and "number_format" not in self.errors:
            example = format_number(
                number_format,
                prefix=cleaned.get("prefix") or "",
                year=timezone.localdate().year,
                seq=7,
            )
            self.example_number = example
        return cleaned


class OccupancyPermitTemplateForm(forms.ModelForm):
    class Meta:
        model = OccupancyPermitTemplate
        fields = ["municipality", "permit_type", "name", "is_active", "body"]
        widgets = {
            "body": forms.Textarea(
                attrs={"class": "template-editor", "rows": 30, "spellcheck": "false"}
            )
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        validate_template_body(body)
        return body

    def clean(self):
        cleaned = super().clean()
        municipality, permit_type = cleaned.get("municipality"), cleaned.get("permit_type")
        if municipality and permit_type and permit_type.municipality_id != municipality.pk:
            self.add_error("permit_type", "Choose a permit type of the same municipality.")
        return cleaned


class RevocationForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the revocation",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        max_length=5000,
        help_text="Printed on the notice of revocation.",
    )
    revoked_on = forms.DateField(
        label="Revoked effective",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Write the reason for the revocation.")
        return reason
