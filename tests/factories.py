"""The inspection world's test helpers, positional as the tests call them, built on
demo.builders (one definition of each row, shared with seed_demo and the benchmark)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.models import Delivery, DeliveryKind
from demo import builders
from inspections.models import Finding, Inspection, Order, Visit


def make_inspection(application, inspection_type, **fields) -> Inspection:
    return builders.inspection(application=application, inspection_type=inspection_type, **fields)


def make_closed_visit(inspection, user, sequence=1, result="failed", **fields) -> Visit:
    return builders.visit(
        inspection=inspection, inspector=user, sequence=sequence, result=result, **fields
    )


def make_finding(
    visit, user, description="Handrail missing on basement stairs", **fields
) -> Finding:
    return builders.finding(visit=visit, created_by=user, description=description, **fields)


def make_order(visit, user, **fields) -> Order:
    return builders.order(visit=visit, created_by=user, **fields)


def make_delivery(application, **fields) -> Delivery:
    """An e-mail about `application` as its row stands (no job enqueued): queued, the close's
    documents to the applicant, unless `fields` say otherwise."""
    values = {
        "kind": DeliveryKind.CLOSE_DOCUMENTS,
        "recipient": "priya@example.com",
        "subject": "Documents",
        "body": "Attached.",
        **fields,
    }
    return Delivery.objects.create(
        municipality=application.municipality, application=application, **values
    )


def jpeg_upload(name="site.jpg", size=(640, 480), color=(200, 120, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")
