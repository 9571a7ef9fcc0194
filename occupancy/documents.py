"""The occupancy permit document: the snapshot of everything it prints, and its PDF.

A permit's snapshot is plain JSON (dates as ISO text) stored on the permit, so what was
issued can be read back for decades whatever happens to the application later. The
template is rendered by a sandboxed engine: no template loaders (no include or extends of
files), no tag libraries to load, autoescaping on.
"""

import base64
import datetime
import mimetypes
from collections.abc import Hashable

from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from core.pdf import PdfRenderError, render_pdf
from core.people import person_name
from inspections import rules


class SandboxEngine(Engine):
    # Replaces Django's built-in tags and filters with the vetted subset.
    default_builtins = ["occupancy.template_sandbox"]


SANDBOX = SandboxEngine(dirs=[], app_dirs=False, libraries={}, autoescape=True, loaders=[])

DATE_KEYS = {"granted_on", "expires_on", "discovery_date", "comply_by"}
DATETIME_KEYS = {"issued_at", "closed_at"}


def _logo_data_uri(municipality) -> str:
    logo = municipality.letterhead_logo
    if not logo:
        return ""
    content_type = mimetypes.guess_type(logo.name)[0] or "image/png"
    with logo.open("rb") as handle:
        return f"data:{content_type};base64," + base64.b64encode(handle.read()).decode()


def outstanding_matters(visit) -> list[dict]:
    matters = [
        {
            "kind": "Deficiency",
            "description": finding.description,
            "discovery_date": finding.discovery_date.isoformat(),
            "comply_by": None,
        }
        for finding in rules.outstanding_findings(visit)
    ]
    matters += [
        {
            "kind": "Order",
            "description": f"{order.get_order_type_display()} issued to {order.issued_to}: "
            f"{order.description}",
            "discovery_date": None,
            "comply_by": order.comply_by.isoformat() if order.comply_by else None,
        }
        for order in rules.outstanding_orders(visit)
    ]
    return matters


def build_snapshot(
    *,
    visit,
    permit_type,
    number: str,
    result: str,
    result_label: str,
    granted_on: datetime.date,
    expires_on: datetime.date | None,
    description: str,
    portion_of_building: str,
    issued_at: datetime.datetime,
    inspector,
) -> dict:
    """Everything the permit prints, as JSON-ready data."""
    application = visit.inspection.application
    municipality = application.municipality
    return {
        "municipality": {
            "name": municipality.name,
            "department_name": municipality.department_name,
            "street_address": municipality.street_address,
            "city": municipality.city,
            "province": municipality.province,
            "postal_code": municipality.postal_code,
            "phone": municipality.phone,
            "email": municipality.email,
            "website": municipality.website,
            "chief_building_official": municipality.chief_building_official,
            "chief_building_official_title": municipality.chief_building_official_title,
        },
        "permit": {
            "number": number,
            "type_name": permit_type.name,
            "kind": permit_type.kind,
            "kind_label": permit_type.get_kind_display(),
            "granted_on": granted_on.isoformat(),
            "expires_on": expires_on.isoformat() if expires_on else None,
            "description": description,
            "portion_of_building": portion_of_building,
            "result": result,
            "result_label": result_label,
            "issued_at": issued_at.isoformat(),
        },
        "application": {
            "number": application.number,
            "full_address": application.full_address,
            "street_address": application.street_address,
            "unit": application.unit,
            "city": application.city,
            "province": application.province,
            "postal_code": application.postal_code,
            "roll_number": application.roll_number,
            "legal_description": application.legal_description,
            "work_type_label": application.get_work_type_display(),
            "description": application.description,
            "applicant_name": application.applicant_name,
            "owner_name": application.owner_name,
        },
        "inspection": {"type_name": visit.inspection.inspection_type.name},
        "visit": {
            "sequence": visit.sequence,
            "inspector_name": person_name(inspector),
            "closed_at": issued_at.isoformat(),
        },
        "outstanding_matters": outstanding_matters(visit)
        if result == "granted_outstanding"
        else [],
    }


def _revive(value, key=None):
    """ISO text back into dates, so templates can use the date filter."""
    if isinstance(value, dict):
        return {k: _revive(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    if isinstance(value, str) and value:
        if key in DATE_KEYS:
            return datetime.date.fromisoformat(value)
        if key in DATETIME_KEYS:
            return timezone.localtime(datetime.datetime.fromisoformat(value))
    return value


def template_context(snapshot: dict, *, logo_data_uri: str = "") -> dict:
    context = _revive(snapshot)
    context["municipality"]["logo_data_uri"] = logo_data_uri
    return context


def render_permit_html(body: str, context: dict) -> str:
    try:
        return SANDBOX.from_string(body).render(Context(context, autoescape=True))
    except TemplateSyntaxError as exc:
        raise PdfRenderError(f"The permit template has an error: {exc}") from exc


def render_permit_pdf(
    *,
    body: str,
    snapshot: dict,
    municipality,
    stylesheet: str = "",
    stylesheet_key: Hashable = None,
) -> bytes:
    """The permit's PDF from its template body and stylesheet and its snapshot. A saved
    version passes ("permit-template-version", pk) as the key: its CSS is parsed once."""
    html = render_permit_html(
        body, template_context(snapshot, logo_data_uri=_logo_data_uri(municipality))
    )
    return render_pdf(html, stylesheet=stylesheet, stylesheet_key=stylesheet_key)


def version_stylesheet_key(version) -> tuple[str, int]:
    """The renderer's cache key of a saved template version's stylesheet."""
    return ("permit-template-version", version.pk)


def sample_snapshot(*, permit_type, municipality) -> dict:
    """Made-up data for previews, shaped like a real snapshot."""
    today = timezone.localdate()
    now = timezone.now()
    return {
        "municipality": {
            "name": municipality.name,
            "department_name": municipality.department_name,
            "street_address": municipality.street_address,
            "city": municipality.city,
            "province": municipality.province,
            "postal_code": municipality.postal_code,
            "phone": municipality.phone,
            "email": municipality.email,
            "website": municipality.website,
            "chief_building_official": municipality.chief_building_official or "Alex Morgan",
            "chief_building_official_title": municipality.chief_building_official_title,
        },
        "permit": {
            "number": f"{permit_type.prefix}-{today.year}-SAMPLE",
            "type_name": permit_type.name,
            "kind": permit_type.kind,
            "kind_label": permit_type.get_kind_display(),
            "granted_on": today.isoformat(),
            "expires_on": (today + datetime.timedelta(days=90)).isoformat()
            if permit_type.needs_expiry_date
            else None,
            "description": "Two-storey single detached dwelling with attached garage.",
            "portion_of_building": "Ground floor, units 101–104"
            if permit_type.needs_portion_of_building
            else "",
            "result": "granted_outstanding",
            "result_label": "Granted, but outstanding matters",
            "issued_at": now.isoformat(),
        },
        "application": {
            "number": "SAMPLE-0001",
            "full_address": "12 Sample Street, " + (municipality.city or "Example"),
            "street_address": "12 Sample Street",
            "unit": "",
            "city": municipality.city or "Example",
            "province": municipality.province,
            "postal_code": "L0R 1A0",
            "roll_number": "2402 000 000 00000 0000",
            "legal_description": "Lot 1, Plan M-0000",
            "work_type_label": "New construction",
            "description": "New single detached dwelling",
            "applicant_name": "Sample Applicant",
            "owner_name": "Sample Owner",
        },
        "inspection": {"type_name": "Occupancy"},
        "visit": {
            "sequence": 1,
            "inspector_name": "Sample Inspector",
            "closed_at": now.isoformat(),
        },
        "outstanding_matters": [
            {
                "kind": "Deficiency",
                "description": "Sample: exterior stair handrail to be installed.",
                "discovery_date": today.isoformat(),
                "comply_by": None,
            },
            {
                "kind": "Order",
                "description": "Sample: Order to Comply — final grading.",
                "discovery_date": None,
                "comply_by": (today + datetime.timedelta(days=30)).isoformat(),
            },
        ],
    }


def render_revocation_pdf(*, revocation) -> bytes:
    from django.template.loader import render_to_string

    permit = revocation.permit
    html = render_to_string(
        "occupancy/pdf/revocation.html",
        {
            "permit": permit,
            "snapshot": template_context(permit.snapshot),
            "revocation": revocation,
            "revoked_by": person_name(revocation.revoked_by),
            "logo_data_uri": _logo_data_uri(permit.municipality),
        },
    )
    return render_pdf(html)
