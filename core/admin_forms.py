from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _

from core.images import PhotoRejected, process_photo
from core.models import Municipality


class MunicipalityForm(forms.ModelForm):
    """The letterhead logo is untrusted input like a photo: decoded, re-encoded, stripped."""

    # A plain file field: Django's ImageField check would run first, with a weaker test and a
    # vaguer message than process_photo's.
    letterhead_logo = forms.FileField(
        label=_("Letterhead logo"), required=False, help_text=_("PNG, JPEG, WebP or HEIC.")
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Municipality
        fields = [
            "name",
            "slug",
            "department_name",
            "street_address",
            "city",
            "province",
            "postal_code",
            "phone",
            "email",
            "website",
            "chief_building_official",
            "chief_building_official_title",
            "letterhead_logo",
            "require_two_factor_for_officials",
        ]

    def clean_letterhead_logo(self):
        logo = self.cleaned_data.get("letterhead_logo")
        if not logo or not hasattr(logo, "content_type"):  # unchanged or cleared
            return logo
        try:
            processed = process_photo(
                logo,
                max_bytes=min(settings.PHOTO_MAX_BYTES, 5 * 1024 * 1024),
                max_pixels=settings.PHOTO_MAX_PIXELS,
            )
        except PhotoRejected as exc:
            raise forms.ValidationError(str(exc)) from None
        return SimpleUploadedFile("logo.jpg", processed.image, content_type="image/jpeg")
