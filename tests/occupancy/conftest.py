import io

import pytest
from pypdf import PdfReader

from inspections.models import Visit
from occupancy.defaults import default_template
from occupancy.models import OccupancyPermitTemplate, OccupancyPermitTemplateVersion
from tests.factories import make_inspection


def pdf_text(data: bytes) -> str:
    """The text a reader of the PDF sees, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def make_template(municipality, permit_type, name, filename):
    body, stylesheet = default_template(filename)
    template = OccupancyPermitTemplate.objects.create(
        municipality=municipality,
        permit_type=permit_type,
        name=name,
        body=body,
        stylesheet=stylesheet,
    )
    OccupancyPermitTemplateVersion.objects.create(
        template=template, version=1, body=body, stylesheet=stylesheet
    )
    return template


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def open_visit(occupancy, inspector):
    return Visit.objects.create(inspection=occupancy, sequence=1, started_by=inspector)
