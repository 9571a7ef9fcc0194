import unicodedata

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.fields import IdChoiceField, IdMultipleChoiceField
from core.text_limits import BoundedCharField
from core.widgets import Textarea
from inspections.models import Finding, Inspection, InspectionType, Order, Photo, Visit, VisitType


def _excerpt(description: str) -> str:
    # Truncator counts character by character: a description that fits is returned as it
    # would return it (NFC) without that (issue 16: an order's and a photo's choices list
    # every open finding of a long inspection).
    text = unicodedata.normalize("NFC", description)
    return text if len(text) <= 80 else Truncator(text).chars(80)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DistinctIdsMixin:
    """Several forms share the inspection page: each gets its own id prefix so labels,
    error messages (aria-describedby) and fields stay unambiguous."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class InspectionAddForm(forms.Form):
    inspection_type = IdChoiceField(
        label=_("Inspection type"),
        queryset=InspectionType.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    # Sent by the "Add a second … inspection" button of the confirmation page.
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["inspection_type"]
        field.queryset = InspectionType.objects.filter(
            municipality_id=application.municipality_id, is_active=True
        ).order_by("display_order", "name")
        # Read once: a select iterates its choices twice (the required attribute looks at the
        # first), and a model choice field queries each time (list() would count them first).
        field.choices = [choice for choice in field.choices]


class InspectionCancelForm(DistinctIdsMixin, forms.Form):
    id_prefix = "cancel"

    reason = BoundedCharField(
        label=_("Reason for cancelling"),
        max_length=Inspection._meta.get_field("cancelled_reason").max_length,
        help_text=_(
            "Shown with the struck-through inspection on the application, e.g. "
            "“Added twice by mistake”."
        ),
        error_messages={"required": _("Give the reason for cancelling this inspection.")},
        widget=Textarea(attrs={"rows": 2}),
    )


class FindingForm(DistinctIdsMixin, forms.ModelForm):
    id_prefix = "finding"

    class Meta:
        model = Finding
        fields = ["discovery_date", "description", "is_remark"]
        labels = {
            "discovery_date": _("Discovery date"),
            "description": _("Description"),
            "is_remark": _("This is a remark only"),
        }
        widgets = {
            "discovery_date": DateInput(),
            "description": Textarea(attrs={"rows": 3}),
        }

    def clean_discovery_date(self):
        discovered = self.cleaned_data["discovery_date"]
        if discovered > timezone.localdate():
            raise forms.ValidationError(gettext("The discovery date cannot be in the future."))
        return discovered

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(gettext("Describe the deficiency or remark."))
        return description


class OrderForm(DistinctIdsMixin, forms.ModelForm):
    id_prefix = "order"

    class Meta:
        model = Order
        fields = ["order_type", "issued_to", "description", "comply_by", "findings"]
        labels = {
            "order_type": _("Order type"),
            "issued_to": _("Issued to"),
            "description": _("Description"),
            "comply_by": _("Comply by"),
            "findings": _("Linked deficiencies & remarks"),
        }
        widgets = {
            "description": Textarea(attrs={"rows": 3}),
            "comply_by": DateInput(),
            "findings": forms.CheckboxSelectMultiple(),
        }
        field_classes = {"findings": IdMultipleChoiceField}

    def __init__(self, *args, findings, **kwargs):
        """`findings`: those the order may link (inspections.queries.linkable_findings); the
        same queryset given to several forms of a page is read once."""
        super().__init__(*args, **kwargs)
        field = self.fields["findings"]
        field.queryset = findings
        field.choices = [
            (
                f.pk,
                gettext("%(kind)s (%(date)s): %(text)s")
                % {
                    "kind": f.kind_label,
                    "date": f"{f.discovery_date:%Y-%m-%d}",
                    "text": _excerpt(f.description),
                },
            )
            for f in findings
        ]
        self.fields["issued_to"].help_text = gettext(
            "Name, role and contact, e.g. owner or contractor. An occupancy permit prints the "
            "name and role, never a phone number."
        )

    def clean_comply_by(self):
        comply_by = self.cleaned_data["comply_by"]
        if comply_by and comply_by < timezone.localdate():
            raise forms.ValidationError(gettext("The comply-by date cannot be in the past."))
        return comply_by

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(gettext("Describe what the order requires."))
        return description


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class PhotoUploadForm(DistinctIdsMixin, forms.Form):
    id_prefix = "photo"
    MAX_FILES = 10

    photos = MultipleImageField(
        label=_("Photos"),
        help_text=_("JPEG, PNG, WebP or HEIC, up to 20 MB each; up to 10 at a time."),
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    description = BoundedCharField(
        label=_("Description"), max_length=Photo._meta.get_field("description").max_length
    )
    finding = IdChoiceField(
        label=_("Deficiency or remark shown"), queryset=Finding.objects.none(), required=False
    )

    def __init__(self, *args, findings, **kwargs):
        """`findings`: those a photo may show, read once as OrderForm's."""
        super().__init__(*args, **kwargs)
        field = self.fields["finding"]
        field.queryset = findings
        field.choices = [
            ("", field.empty_label),
            *(
                (
                    f.pk,
                    gettext("%(kind)s: %(text)s")
                    % {"kind": f.kind_label, "text": _excerpt(f.description)},
                )
                for f in findings
            ),
        ]

    def clean_photos(self):
        from core.images import PhotoRejected, photos_over_pixel_budget, process_photo

        uploads = self.cleaned_data["photos"]
        if not uploads:
            raise forms.ValidationError(gettext("Choose at least one photo."))
        if len(uploads) > self.MAX_FILES:
            raise forms.ValidationError(
                ngettext(
                    "Upload at most %(count)d photo at a time.",
                    "Upload at most %(count)d photos at a time.",
                    self.MAX_FILES,
                )
                % {"count": self.MAX_FILES}
            )
        budget = settings.PHOTO_MAX_PIXELS_PER_REQUEST
        # From the files' headers, before any is decoded (ten 49-megapixel PNGs: 25 s, 1 GB).
        if over := photos_over_pixel_budget(uploads, budget):
            raise forms.ValidationError(
                gettext(
                    "These photos are too large to add together (at most %(megapixels)s "
                    "megapixels at a time): %(names)s. Nothing was added; add them in another "
                    "batch."
                )
                % {"megapixels": f"{budget / 1_000_000:g}", "names": ", ".join(over)}
            )
        processed = []
        for upload in uploads:
            try:
                processed.append(
                    process_photo(
                        upload,
                        max_bytes=settings.PHOTO_MAX_BYTES,
                        max_pixels=settings.PHOTO_MAX_PIXELS,
                    )
                )
            except PhotoRejected as exc:
                raise forms.ValidationError(
                    gettext("%(name)s: %(reason)s") % {"name": upload.name, "reason": exc}
                ) from None
        return processed

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(gettext("Describe what the photos show."))
        return description


class VisitDraftForm(DistinctIdsMixin, forms.ModelForm):
    id_prefix = "visit"

    internal_notes = BoundedCharField(
        label=_("Internal notes"),
        required=False,
        max_length=Visit._meta.get_field("internal_notes").max_length,
        help_text=_("Visible to municipal staff only."),
        widget=Textarea(attrs={"rows": 3}),
    )
    site_conditions = BoundedCharField(
        label=_("Site conditions"),
        required=False,
        max_length=Visit._meta.get_field("site_conditions").max_length,
        widget=Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Visit
        fields = ["visit_type", "internal_notes", "site_conditions", "time_used_minutes"]
        labels = {"visit_type": _("Visit type"), "time_used_minutes": _("Time used (minutes)")}
        widgets = {
            "visit_type": forms.RadioSelect(),
            "time_used_minutes": forms.NumberInput(attrs={"min": 0, "max": 1440, "step": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only Start follow-up visit makes a follow-up visit, and it stays one.
        follow_up = (VisitType.FOLLOW_UP.value, VisitType.FOLLOW_UP.label)
        field = self.fields["visit_type"]
        if self.instance.is_follow_up:
            field.choices = [follow_up]
        else:
            field.choices = [choice for choice in field.choices if choice != follow_up]
