"""Issued documents are never kept by a browser or proxy (Cache-Control: no-store), while the
public verification page may be cached for a minute, as it says (issue 19)."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from tests.conftest import client_for


@pytest.fixture
def permit(inspector, open_visit, general_template):
    return visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        failure_reason="",
        grant=GrantDetails(
            template=general_template,
            granted_on=timezone.localdate(),
            description="Single detached dwelling.",
        ),
    ).permit


def test_the_issued_permit_pdf_is_sent_with_no_store(inspector, permit):
    path = reverse("occupancy:permit_pdf", args=[permit.municipality.slug, permit.number])
    response = client_for(inspector).get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"


def test_the_permit_page_is_sent_with_no_store(inspector, permit):
    response = client_for(inspector).get(permit.application.get_absolute_url())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_the_public_verification_page_is_cached_for_a_minute(permit):
    response = Client().get(reverse("occupancy:verify", args=[permit.verification.token]))
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=60"}
