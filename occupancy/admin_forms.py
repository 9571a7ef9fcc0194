import tinycss2
from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from occupancy.defaults import default_template_of_kind
from occupancy.models import OccupancyPermitTemplate, OccupancyPermitType, PermitKind
from occupancy.numbering import NumberFormatError, PrefixError, check_number_format
from occupancy.template_validation import validate_template_body


def permit_type_label(permit_type: OccupancyPermitType) -> str:
    """A permit type as the admin's lists and choices name it: "General (Town of Example)"."""
    return f"{permit_type.name} ({permit_type.municipality.name})"


class OccupancyPermitTypeForm(forms.ModelForm):
    class Meta:
        model = OccupancyPermitType
        fields = [
            "municipality",
            "name",
            "kind",
            "language",
            "is_active",
            "prefix",
            "number_format",
            "sequence_key",
            "restart_each_year",
            "needs_portion_of_building",
            "needs_expiry_date",
        ]
        help_texts = {
            "number_format": _(
                "Tokens: {prefix}, {year} and {seq}; a width pads the sequence with zeros, e.g. "
                "{prefix}-{year}-{seq:04} gives OCC-2026-0007. Only letters, digits, - _ and . "
                "(a number is part of its PDF's address and file name), at most 60 characters. "
                "Changing the format never renumbers permits already issued."
            ),
        }

    def clean_number_format(self):
        return self.cleaned_data["number_format"].strip()

    def clean(self):
        cleaned = super().clean()
        number_format = cleaned.get("number_format")
        if number_format and "number_format" not in self.errors and "prefix" not in self.errors:
            try:
                # The prefix is part of every number: it is checked with the format, on a
                # sample number at the largest plausible sequence and this year.
                check_number_format(number_format, prefix=cleaned.get("prefix") or "")
            except PrefixError as exc:
                self.add_error("prefix", str(exc))
            except NumberFormatError as exc:
                self.add_error("number_format", str(exc))
        if number_format and "{year}" not in number_format and cleaned.get("restart_each_year"):
            self.add_error(
                "number_format",
                gettext(
                    "A sequence that restarts each year needs {year} in the format, or numbers "
                    "would repeat."
                ),
            )
        if cleaned.get("kind") == PermitKind.GENERAL and not cleaned.get(
            "needs_required_inspections", True
        ):
            self.add_error(
                "needs_required_inspections",
                gettext(
                    "A general (full occupancy) permit needs the required inspections passed; "
                    "only a partial or temporary permit may authorize occupancy before "
                    "completion."
                ),
            )
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
            gettext("The stylesheet is %(size)s KB; at most %(limit)s KB is allowed.")
            % {"size": f"{size / 1024:.0f}", "limit": STYLESHEET_MAX_BYTES // 1024}
        )
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    errors = [
        gettext("Line %(line)s: @import is not allowed; put the rules in this stylesheet.")
        % {"line": line}
        for line in _imports(rules)
    ]
    errors += [
        gettext("Line %(line)s: url(%(url)s) is not allowed; images and fonts must be data: URIs.")
        % {"line": line, "url": url[:80]}
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.body_from_default = False
        if self.instance.pk is None and "body" in self.fields:
            # A new template left empty starts from the shipped default of its type's kind.
            self.fields["body"].required = False
            self.fields["body"].help_text = format_lazy(
                "{} {}",
                self.fields["body"].help_text,
                _(
                    "Left empty, a new template starts from the shipped default of its permit "
                    "type's kind (general, partial or temporary), stylesheet included."
                ),
            )
        if "permit_type" in self.fields:
            # Types of several municipalities may share a name ("General"): say whose.
            field = self.fields["permit_type"]
            field.queryset = field.queryset.select_related("municipality")
            field.label_from_instance = permit_type_label

    def clean_body(self):
        body = self.cleaned_data["body"]
        permit_type = self.cleaned_data.get("permit_type")
        if not body.strip() and self.instance.pk is None:
            if permit_type is None:
                raise ValidationError(
                    gettext(
                        "Write the template, or choose its permit type to start from the "
                        "shipped default of its kind."
                    )
                )
            body = default_template_of_kind(permit_type.kind, permit_type.language).body
            self.body_from_default = True
        validate_template_body(body, permit_type=permit_type)
        return body

    def clean_stylesheet(self):
        stylesheet = self.cleaned_data["stylesheet"]
        permit_type = self.cleaned_data.get("permit_type")
        if self.body_from_default and not stylesheet.strip() and permit_type is not None:
            stylesheet = default_template_of_kind(permit_type.kind, permit_type.language).stylesheet
        validate_template_stylesheet(stylesheet)
        return stylesheet

    def clean(self):
        cleaned = super().clean()
        municipality, permit_type = cleaned.get("municipality"), cleaned.get("permit_type")
        if municipality and permit_type and permit_type.municipality_id != municipality.pk:
            self.add_error("permit_type", gettext("Choose a permit type of the same municipality."))
        return cleaned
