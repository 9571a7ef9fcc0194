"""The inspection report PDF of a closed visit: findings, orders, photos and the result,
written in the application's language of correspondence (it is e-mailed to the applicant)."""

import base64
import re

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from core.pdf import DocumentMetadata, issuer_name, render_pdf
from core.people import person_name
from inspections import rules
from inspections.models import Finding, Visit


def _data_uri(field_file) -> str:
    # Photos are embedded inline: the renderer fetches nothing, not even from our disk.
    with field_file.open("rb") as handle:
        return "data:image/jpeg;base64," + base64.b64encode(handle.read()).decode()


def _number_findings(*lists) -> dict[int, int]:
    """Number the deficiencies and remarks the report lists (1, 2, … across its lists), so
    an order refers to the one it concerns by its number instead of repeating its text."""
    numbers: dict[int, int] = {}
    for findings in lists:
        for finding in findings:
            finding.number = numbers.setdefault(finding.pk, len(numbers) + 1)
    return numbers


def _concerning(order, numbers: dict[int, int]) -> list[str]:
    """What an order's linked deficiencies and remarks are called in the report."""
    named = []
    for finding in order.findings.all():
        if finding.pk in numbers:
            listed = (
                gettext("remark %(number)s")
                if finding.is_remark
                else gettext("deficiency %(number)s")
            )
            named.append(listed % {"number": numbers[finding.pk]})
        else:  # not listed in this report (e.g. corrected on an earlier visit)
            elsewhere = (
                gettext("remark of visit %(sequence)s “%(text)s”")
                if finding.is_remark
                else gettext("deficiency of visit %(sequence)s “%(text)s”")
            )
            named.append(
                elsewhere
                % {
                    "sequence": finding.visit.sequence,
                    "text": Truncator(finding.description).chars(80),
                }
            )
    return named


# The report's long dates: "December 7, 2026" in English, "7 décembre 2026" in French.
LONG_DATE = {"fr-ca": "j F Y"}
ENGLISH_LONG_DATE = "F j, Y"


_CSS_COUNTER = re.compile(r"%\((\w+)\)s")
_CSS_PLAIN = re.compile(r"[A-Za-z0-9 .,:;!?()/-]")


def _css_string(text: str) -> str:
    # Every other character escaped the CSS way (a quote, a backslash, "<" cannot end it).
    escaped = "".join(c if _CSS_PLAIN.fullmatch(c) else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def css_content(text: str) -> SafeString:
    """A translated sentence as the value of a CSS `content` property, each %(name)s a
    counter: "Page %(page)s of %(pages)s" → "Page " counter(page) " of " counter(pages)."""
    pieces = _CSS_COUNTER.split(text)
    parts = [
        f"counter({piece})" if index % 2 else _css_string(piece)
        for index, piece in enumerate(pieces)
        if piece
    ]
    return mark_safe(" ".join(parts))


def document_language(language: str) -> str:
    """The language tag a PDF carries for a Django language code: "fr-ca" → "fr-CA"."""
    return translation.to_locale(language).replace("_", "-")


def render_visit_report(*, visit: Visit, permit_number: str = "") -> bytes:
    """The report's PDF, in the application's language of correspondence."""
    language = visit.inspection.application.correspondence_language
    with translation.override(language):
        return _render(visit=visit, permit_number=permit_number, language=language)


def _render(*, visit: Visit, permit_number: str, language: str) -> bytes:
    inspection = visit.inspection
    application = inspection.application
    lang = document_language(language)
    photos = [
        {"uri": _data_uri(photo.thumbnail), "description": photo.description}
        for photo in visit.photos.order_by("uploaded_at", "id")
    ]
    # The outstanding matters include this visit's own: the report lists those once, as
    # recorded on this visit, and apart only the ones carried over from earlier visits.
    findings = list(visit.findings.order_by("discovery_date", "id"))
    corrected = list(
        visit.corrected_findings.select_related("visit").order_by("discovery_date", "id")
    )
    outstanding = list(rules.outstanding_findings(visit))
    outstanding_earlier = [f for f in outstanding if f.visit_id != visit.pk]
    numbers = _number_findings(findings, corrected, outstanding_earlier)
    orders = list(
        visit.orders.prefetch_related(
            Prefetch("findings", queryset=Finding.objects.select_related("visit"))
        ).order_by("created_at", "id")
    )
    for order in orders:
        order.concerning = _concerning(order, numbers)
    outstanding_orders = list(rules.outstanding_orders(visit))
    html = render_to_string(
        "inspections/pdf/report.html",
        {
            "municipality": application.municipality,
            "application": application,
            "inspection": inspection,
            "visit": visit,
            "inspector_name": person_name(visit.closed_by),
            "closed_at": timezone.localtime(visit.closed_at),
            "findings": findings,
            "corrected": corrected,
            "outstanding": outstanding,
            "outstanding_earlier": outstanding_earlier,
            "orders": orders,
            "outstanding_orders": outstanding_orders,
            "outstanding_orders_earlier": [o for o in outstanding_orders if o.visit_id != visit.pk],
            "complied": list(visit.complied_orders.order_by("created_at", "id")),
            "photos": photos,
            "permit_number": permit_number,
            "lang": lang,
            "outstanding_summary": rules.matters_phrase(len(outstanding), len(outstanding_orders)),
            # The page footer is CSS (@page margin boxes), its text a CSS string.
            "footer_left": css_content(
                gettext("Inspection report %(number)s · visit %(sequence)s")
                % {"number": application.number, "sequence": visit.sequence}
            ),
            "footer_right": css_content(gettext("Page %(page)s of %(pages)s")),
            "long_date": LONG_DATE.get(language, ENGLISH_LONG_DATE),
        },
    )
    metadata = DocumentMetadata(
        title=gettext("Inspection report %(number)s visit %(sequence)s")
        % {"number": application.number, "sequence": visit.sequence},
        author=issuer_name(application.municipality),
        subject=gettext("%(type)s inspection %(code)s, visit %(sequence)s, at %(address)s")
        % {
            "type": inspection.inspection_type.name,
            "code": inspection.code,
            "sequence": visit.sequence,
            "address": application.full_address,
        },
        created=visit.closed_at,
        lang=lang,
    )
    return render_pdf(html, metadata=metadata)
