from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.fields import IdChoiceField
from core.models import Municipality
from exchange.importing.mapping import builtin_mappings

# The request only stores the file; a job imports it (exchange.importing.runs), so the limit
# is what one upload may reasonably carry, not what a request could import in time: 25 MB is
# a city's whole history (about 130,000 rows; 20 MB took the job 208 s on PostgreSQL,
# docs/performance.md). Larger files go through `manage.py import_applications`. The request-size
# middleware refuses a larger body from its Content-Length before reading it; a file under
# that bound but over this one is refused here, at the field.
IMPORT_MAX_BYTES = getattr(settings, "IMPORT_MAX_BYTES", 25 * 1024 * 1024)


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
    dry_run = forms.BooleanField(
        label=_("Check only (dry run)"),
        required=False,
        initial=True,
        help_text=_(
            "The file is read and checked and you see what the import would do, with nothing "
            "saved; you can then import it from that page."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "UTF-8 CSV (Windows-1252 is read too), at most %(size)s MB. It is imported in "
            "the background: its page shows how far it is and, once done, what it did."
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
