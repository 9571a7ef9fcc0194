"""The scheduling tests live on Monday December 14, 2026 (scheduling.rules.today), two
weeks before Christmas Day (a Friday) and Boxing Day observed (Monday December 28)."""

import datetime

import pytest

from scheduling import rules, services
from scheduling.models import HalfDay

MONDAY = datetime.date(2026, 12, 14)
WEDNESDAY = datetime.date(2026, 12, 16)  # the first day a request made on MONDAY may ask for
THURSDAY = datetime.date(2026, 12, 17)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(rules, "today", lambda: MONDAY)
    return MONDAY


def make_request(application, inspection_type, actor, *, day=WEDNESDAY, **fields):
    values = {
        "requested_date": day,
        "half_day": HalfDay.MORNING,
        "site_contact_name": "Sam Builder",
        "site_contact_phone": "905-555-0142",
        "access_notes": "Lockbox 4321 at the side door",
        **fields,
    }
    return services.request_create(
        application=application, inspection_type=inspection_type, actor=actor, **values
    )


@pytest.fixture
def occupancy_request(application_a, occupancy_type_a, clerk):
    return make_request(application_a, occupancy_type_a, clerk)
