"""Small builders for the inspection world, writing rows the way the services do."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from inspections.models import Finding, Inspection, Order, OrderType, Visit, VisitStatus


def make_inspection(application, inspection_type, **fields) -> Inspection:
    return Inspection.objects.create(
        application=application, inspection_type=inspection_type, **fields
    )


def make_closed_visit(inspection, user, sequence=1, result="failed", **fields) -> Visit:
    return Visit.objects.create(
        inspection=inspection,
        sequence=sequence,
        started_by=user,
        status=VisitStatus.CLOSED,
        result=result,
        failure_reason="deficiencies" if result in ("failed", "not_granted") else "",
        closed_by=user,
        closed_at=timezone.now(),
        **fields,
    )


def make_finding(visit, user, description="Handrail missing on basement stairs", **fields):
    return Finding.objects.create(visit=visit, description=description, created_by=user, **fields)


def make_order(visit, user, **fields):
    defaults = dict(
        order_type=OrderType.ORDER_TO_COMPLY,
        issued_to="Jordan Smith, owner, 905-555-0101",
        description="Install the handrail before occupancy.",
    )
    defaults.update(fields)
    return Order.objects.create(visit=visit, created_by=user, **defaults)


def jpeg_upload(name="site.jpg", size=(640, 480), color=(200, 120, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")
