import tinycss2
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from occupancy.models import OccupancyPermitTemplate, OccupancyPermitType, PermitKind
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
        if cleaned.get("kind") == PermitKind.GENERAL and not cleaned.get(
            "needs_required_inspections", True
        ):
            self.add_error(
                "needs_required_inspections",
                "A general (full occupancy) permit needs the required inspections passed; "
                "only a partial or temporary permit may authorize occupancy before completion.",
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


STYLESHEET_MAX_BYTES = 200 * 1024
# Functions whose string arguments WeasyPrint fetches as URLs.
_URL_FUNCTIONS = {"url", "src", "image-set", "-webkit-image-set"}


def _stylesheet_urls(nodes):
    """(line, url) of every URL a parsed stylesheet would fetch, at any depth."""
    for node in nodes:
        if node.type == "url":
            yield node.source_line, node.value
        elif node.type == "function":
            if node.lower_name in _URL_FUNCTIONS:
                for argument in node.arguments:
                    if argument.type == "string":
                        yield argument.source_line, argument.value
            yield from _stylesheet_urls(node.arguments)
        elif node.type in ("qualified-rule", "at-rule"):
            yield from _stylesheet_urls(node.prelude)
            yield from _stylesheet_urls(node.content or [])
        elif node.type in ("() block", "[] block", "{} block"):
            yield from _stylesheet_urls(node.content)


def _imports(nodes):
    for node in nodes:
        if (node.type == "at-rule" and node.lower_at_keyword == "import") or (
            node.type == "at-keyword" and node.lower_value == "import"
        ):
            yield node.source_line
        elif node.type in ("qualified-rule", "at-rule"):
            yield from _imports(node.content or [])
        elif node.type in ("() block", "[] block", "{} block", "function"):
            yield from _imports(getattr(node, "content", None) or node.arguments)


def validate_template_stylesheet(css: str) -> None:
    """Raise ValidationError listing what the PDF renderer would refuse to fetch, by line.

    The renderer itself refuses every URL but data: (core.pdf.InlineOnlyFetcher); this
    tells the administrator at the field instead of printing a permit without its image.
    """
    size = len(css.encode())
    if size > STYLESHEET_MAX_BYTES:
        raise ValidationError(
            f"The stylesheet is {size / 1024:.0f} KB; at most "
            f"{STYLESHEET_MAX_BYTES // 1024} KB is allowed."
        )
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    errors = [
        f"Line {line}: @import is not allowed; put the rules in this stylesheet."
        for line in _imports(rules)
    ]
    errors += [
        f"Line {line}: url({url[:80]}) is not allowed; images and fonts must be data: URIs."
        for line, url in _stylesheet_urls(rules)
        if not url.strip().lower().startswith("data:")
    ]
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))


class OccupancyPermitTemplateForm(forms.ModelForm):
    class Meta:
        model = OccupancyPermitTemplate
        fields = ["municipality", "permit_type", "name", "is_active", "body", "stylesheet"]
        widgets = {
            "body": forms.Textarea(
                attrs={"class": "template-editor", "rows": 30, "spellcheck": "false"}
            ),
            "stylesheet": forms.Textarea(
                attrs={"class": "template-editor", "rows": 20, "spellcheck": "false"}
            ),
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        validate_template_body(body)
        return body

    def clean_stylesheet(self):
        stylesheet = self.cleaned_data["stylesheet"]
        validate_template_stylesheet(stylesheet)
        return stylesheet

    def clean(self):
        cleaned = super().clean()
        municipality, permit_type = cleaned.get("municipality"), cleaned.get("permit_type")
        if municipality and permit_type and permit_type.municipality_id != municipality.pk:
            self.add_error("permit_type", "Choose a permit type of the same municipality.")
        return cleaned
