from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from core.fields import IdChoiceField
from core.models import Municipality
from exchange.importing.mapping import builtin_mappings

# Larger files go through `manage.py import_applications`: a request should not run for
# minutes. The preview and the import each read the whole file in a request; measured
# (docs/performance.md, "Import"), 5 MB is about 26,000 rows, 10 to 40 s a pass on a busy
# two-CPU server. A request-size limit in front of the app refuses a far larger body before
# reading it; a file under that limit but over this one is refused here, at the field.
IMPORT_MAX_BYTES = getattr(settings, "IMPORT_MAX_BYTES", 5 * 1024 * 1024)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


class ImportUploadForm(forms.Form):
    municipality = IdChoiceField(
        queryset=Municipality.objects.order_by("name"),
        help_text="The applications are imported into this municipality.",
    )
    mapping = forms.ChoiceField(
        help_text="How the file's columns become application fields.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV (Windows-1252 is read too), at most "
        f"{megabytes(IMPORT_MAX_BYTES)} MB. Nothing is saved before you confirm the preview.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = [
            (name, f"{name}: {label}") for name, label in builtin_mappings().items()
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                f"The file is {megabytes(upload.size)} MB; the limit here is "
                f"{megabytes(IMPORT_MAX_BYTES)} MB. Split it, or have it imported with "
                "manage.py import_applications."
            )
        if upload.size == 0:
            raise ValidationError("The file is empty.")
        return upload


class ImportConfirmForm(forms.Form):
    token = forms.RegexField(regex=r"^[A-Za-z0-9_-]{20,64}$", widget=forms.HiddenInput)
