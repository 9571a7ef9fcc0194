"""The inspection report PDF of a closed visit: findings, orders, photos and the result."""

import base64

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import Truncator

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
        kind = finding.kind_label.lower()
        if finding.pk in numbers:
            named.append(f"{kind} {numbers[finding.pk]}")
        else:  # not listed in this report (e.g. corrected on an earlier visit)
            text = Truncator(finding.description).chars(80)
            named.append(f"{kind} of visit {finding.visit.sequence} “{text}”")
    return named


def render_visit_report(*, visit: Visit, permit_number: str = "") -> bytes:
    inspection = visit.inspection
    application = inspection.application
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
        },
    )
    metadata = DocumentMetadata(
        title=f"Inspection report {application.number} visit {visit.sequence}",
        author=issuer_name(application.municipality),
        subject=f"{inspection.inspection_type.name} inspection {inspection.code}, visit "
        f"{visit.sequence}, at {application.full_address}",
        created=visit.closed_at,
    )
    return render_pdf(html, metadata=metadata)
