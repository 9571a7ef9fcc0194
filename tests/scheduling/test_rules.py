"""Every refusal of a request (scheduling.rules.request_refusals), at its field, with what
the user reads."""

import datetime

from django.utils import translation

from scheduling import rules
from scheduling.models import Holiday, SchedulingSettings
from tests.scheduling.conftest import MONDAY, THURSDAY, WEDNESDAY, make_request


def refusals(application, inspection_type, day):
    return rules.request_refusals(
        municipality=application.municipality,
        application=application,
        inspection_type=inspection_type,
        requested_date=day,
    )


def test_request_refusals_none_for_a_weekday_after_the_notice(application_a, occupancy_type_a):
    assert refusals(application_a, occupancy_type_a, WEDNESDAY) == {}


def test_request_refusals_a_past_day(application_a, occupancy_type_a):
    assert refusals(application_a, occupancy_type_a, MONDAY - datetime.timedelta(days=3)) == {
        "requested_date": "Friday December 11, 2026 is in the past."
    }


def test_request_refusals_a_weekend_day(application_a, occupancy_type_a):
    assert refusals(application_a, occupancy_type_a, datetime.date(2026, 12, 19)) == {
        "requested_date": "Saturday December 19 is a weekend day: choose a weekday."
    }


def test_request_refusals_a_statutory_holiday_by_its_name(application_a, occupancy_type_a):
    assert refusals(application_a, occupancy_type_a, datetime.date(2026, 12, 25)) == {
        "requested_date": "Friday December 25 is Christmas Day, a holiday: choose another day."
    }
    # Boxing Day falls on a Saturday in 2026: Ontario observes it on the Monday.
    assert refusals(application_a, occupancy_type_a, datetime.date(2026, 12, 28)) == {
        "requested_date": "Monday December 28 is Boxing Day (observed), a holiday: choose "
        "another day."
    }


def test_day_label_names_days_and_months_in_the_active_language(french):
    first = datetime.date(2026, 12, 1)
    assert (rules.day_label(first, year=True), rules.day_label(THURSDAY)) == (
        "Tuesday December 1, 2026",
        "Thursday December 17",
    )
    with translation.override("fr-ca"):
        assert (rules.day_label(first, year=True), rules.day_label(THURSDAY)) == (
            "mardi 1er décembre 2026",
            "jeudi 17 décembre",
        )


def test_request_refusals_in_french_name_the_holiday_in_french(
    french, application_a, occupancy_type_a
):
    with translation.override("fr-ca"):
        assert refusals(application_a, occupancy_type_a, datetime.date(2026, 12, 25)) == {
            "requested_date": "Le vendredi 25 décembre est un jour férié (Jour de Noël) : "
            "choisissez un autre jour."
        }
    # The English names are the package's as before, whatever was asked in French.
    assert refusals(application_a, occupancy_type_a, datetime.date(2026, 12, 25)) == {
        "requested_date": "Friday December 25 is Christmas Day, a holiday: choose another day."
    }


def test_request_refusals_a_day_the_municipality_added(application_a, occupancy_type_a):
    Holiday.objects.create(
        municipality=application_a.municipality, date=THURSDAY, name="Staff training day"
    )
    assert refusals(application_a, occupancy_type_a, THURSDAY) == {
        "requested_date": "Thursday December 17 is Staff training day, a holiday: choose "
        "another day."
    }


def test_request_refusals_less_than_the_minimum_notice(application_a, occupancy_type_a):
    tuesday = MONDAY + datetime.timedelta(days=1)
    assert refusals(application_a, occupancy_type_a, tuesday) == {
        "requested_date": "Inspections are booked 2 business days ahead: the first day you "
        "can request is Wednesday December 16, 2026."
    }
    assert refusals(application_a, occupancy_type_a, MONDAY)["requested_date"].startswith(
        "Inspections are booked 2 business days ahead"
    )


def test_minimum_notice_counts_business_days_over_holidays(
    application_a, occupancy_type_a, monkeypatch
):
    # Requested on Wednesday December 23: Thursday 24 is one business day, then Christmas,
    # the weekend and Boxing Day observed; Tuesday December 29 is the second.
    monkeypatch.setattr(rules, "today", lambda: datetime.date(2026, 12, 23))
    assert rules.earliest_request_date(application_a.municipality) == datetime.date(2026, 12, 29)
    assert refusals(application_a, occupancy_type_a, datetime.date(2026, 12, 24)) == {
        "requested_date": "Inspections are booked 2 business days ahead: the first day you "
        "can request is Tuesday December 29, 2026."
    }


def test_minimum_notice_is_the_municipalitys(application_a, occupancy_type_a):
    SchedulingSettings.objects.create(
        municipality=application_a.municipality, minimum_notice_days=0
    )
    assert refusals(application_a, occupancy_type_a, MONDAY) == {}
    SchedulingSettings.objects.filter(municipality=application_a.municipality).update(
        minimum_notice_days=5
    )
    assert "Monday December 21, 2026" in refusals(
        application_a, occupancy_type_a, THURSDAY
    )["requested_date"]


def test_request_refusals_a_type_already_requested_and_not_yet_done(
    application_a, occupancy_type_a, framing_type_a, clerk
):
    make_request(application_a, occupancy_type_a, clerk)
    assert refusals(application_a, occupancy_type_a, THURSDAY) == {
        "inspection_type": "The Occupancy inspection is already requested for Wednesday "
        "December 16 and not yet done."
    }
    assert refusals(application_a, framing_type_a, THURSDAY) == {}


def test_next_working_day_skips_the_weekend_and_the_holidays(municipality_a, municipality_b):
    from scheduling.models import Holiday

    friday = datetime.date(2026, 12, 18)
    assert rules.next_working_day(municipalities=[municipality_a], after=MONDAY) == (
        datetime.date(2026, 12, 15)
    )
    assert rules.next_working_day(municipalities=[municipality_a], after=friday) == (
        datetime.date(2026, 12, 21)
    )
    # Christmas Day (Friday) and Boxing Day observed (Monday December 28).
    assert rules.next_working_day(
        municipalities=[municipality_a], after=datetime.date(2026, 12, 24)
    ) == datetime.date(2026, 12, 29)
    Holiday.objects.create(
        municipality=municipality_a, date=datetime.date(2026, 12, 21), name="Civic closure"
    )
    assert rules.next_working_day(municipalities=[municipality_a], after=friday) == (
        datetime.date(2026, 12, 22)
    )
    # An inspector of two towns works on the first day either is open.
    assert rules.next_working_day(
        municipalities=[municipality_a, municipality_b], after=friday
    ) == datetime.date(2026, 12, 21)
    # No municipality to ask (a superuser without bookings): the calendar's next day.
    assert rules.next_working_day(municipalities=[], after=friday) == datetime.date(2026, 12, 19)
