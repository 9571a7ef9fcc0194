"""The inspection report PDF of a closed visit: findings, orders, photos and the result."""

import base64

from django.template.loader import render_to_string
from django.utils import timezone

from core.pdf import render_pdf
from core.people import person_name
from inspections import rules
from inspections.models import Visit


def _data_uri(field_file) -> str:
    # Photos are embedded inline: the renderer fetches nothing, not even from our disk.
    with field_file.open("rb") as handle:
        return "data:image/jpeg;base64," + base64.b64encode(handle.read()).decode()


def render_visit_report(*, visit: Visit, permit_number: str = "") -> bytes:
    inspection = visit.inspection
    application = inspection.application
    photos = [
        {"uri": _data_uri(photo.thumbnail), "description": photo.description}
        for photo in visit.photos.order_by("uploaded_at", "id")
    ]
    html = render_to_string(
        "inspections/pdf/report.html",
        {
            "municipality": application.municipality,
            "application": application,
            "inspection": inspection,
            "visit": visit,
            "inspector_name": person_name(visit.closed_by),
            "closed_at": timezone.localtime(visit.closed_at),
            "findings": list(visit.findings.order_by("discovery_date", "id")),
            "corrected": list(visit.corrected_findings.order_by("discovery_date", "id")),
            "outstanding": list(rules.outstanding_findings(visit)),
            "orders": list(visit.orders.prefetch_related("findings").order_by("created_at", "id")),
            "outstanding_orders": list(rules.outstanding_orders(visit)),
            "complied": list(visit.complied_orders.order_by("created_at", "id")),
            "photos": photos,
            "permit_number": permit_number,
        },
    )
    return render_pdf(html)
