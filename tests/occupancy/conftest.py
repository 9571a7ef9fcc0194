import io

import pytest
from pypdf import PdfReader

from demo import builders
from tests.factories import make_inspection


def pdf_text(data: bytes) -> str:
    """The text a reader of the PDF sees, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def make_template(municipality, permit_type, name, filename):
    """A template of `permit_type` (a type of `municipality`) with the shipped body `filename`."""
    assert permit_type.municipality_id == municipality.pk
    return builders.permit_template(permit_type=permit_type, name=name, filename=filename)


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def open_visit(occupancy, inspector):
    return builders.visit(inspection=occupancy, inspector=inspector)
