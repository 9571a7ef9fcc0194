from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
    """5, 4.5 (4,5 in French): one decimal, none when it is 0."""
    tenths = round(size / (1024 * 1024), 1)
    return str(int(tenths)) if tenths == int(tenths) else formats.number_format(tenths, 1)


class ImportUploadForm(forms.Form):
    municipality = IdChoiceField(
        queryset=Municipality.objects.order_by("name"),
        label=_("Municipality"),
        help_text=_("The applications are imported into this municipality."),
    )
    mapping = forms.ChoiceField(
        label=_("Mapping"),
        help_text=_("How the file's columns become application fields."),
    )
    file = forms.FileField(
        label=_("CSV file"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8 CSV (Windows-1252 is read too), at most %(size)s MB. "
            "Nothing is saved before you confirm the preview."
        ) % {"size": megabytes(IMPORT_MAX_BYTES)}
        self.fields["mapping"].choices = [
            (name, f"{name}: {label}") for name, label in builtin_mappings().items()
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                gettext(
                    "The file is %(size)s MB; the limit here is %(limit)s MB. Split it, or "
                    "have it imported with manage.py import_applications."
                )
                % {"size": megabytes(upload.size), "limit": megabytes(IMPORT_MAX_BYTES)}
            )
        if upload.size == 0:
            raise ValidationError(gettext("The file is empty."))
        return upload


class ImportConfirmForm(forms.Form):
    token = forms.RegexField(regex=r"^[A-Za-z0-9_-]{20,64}$", widget=forms.HiddenInput)
