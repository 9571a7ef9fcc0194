"""The search finds what people type (issue 16): numbers with or without dashes and in any
case, occupancy permit numbers, names with or without accents, roll numbers with or without
spaces, street types written in full or abbreviated, the legal description; a broad search
is counted up to 1,000. Run on SQLite and on PostgreSQL (DATABASE_URL): the same rows must
be found on both."""

import datetime
import importlib
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.models import Municipality, Role
from exchange.importing.mapping import load_mapping
from exchange.importing.services import applications_import
from inspections.models import Visit
from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from permits.models import Application, ApplicationStatus
from permits.search import COUNT_LIMIT, query_terms, search_key
from tests.conftest import client_for, make_application, make_user

BURLINGTON_CSV = settings.BASE_DIR.parent / "shared" / "data" / "burlington-on-building-permits.csv"


def search(user, query: str, **params):
    response = client_for(user).get(reverse("permits:application_list"), {"q": query, **params})
    assert response.status_code == 200
    return response


def found(user, query: str) -> set[str]:
    return {application.number for application in search(user, query).context["page_obj"]}


@pytest.fixture
def neighbours(municipality_a):
    """Two owners named Jean-François on Orchard Drive, written two ways, and a third
    application that shares parts of their names, street and plan but none of them whole."""
    make_application(
        municipality_a,
        number="B2026-0079",
        street_address="47 Orchard Drive",
        roll_number="2402 020 030 01500 0000",
        legal_description="Lot 14, Plan 20M-1187",
        applicant_name="Priya Raman",
        owner_name="Jean-François Tremblay",
    )
    make_application(
        municipality_a,
        number="B2026-0080",
        street_address="12 ORCHARD DR",
        roll_number="2402 020 030 01600 0000",
        legal_description="Part of Lot 3, Concession 2",
        applicant_name="Northway Homes Ltd.",
        owner_name="Jean-Francois Lavoie",
    )
    make_application(
        municipality_a,
        number="B2026-0081",
        street_address="9 Orchard Lane",
        roll_number="2402 020 030 01700 0000",
        legal_description="Lot 15, Plan 20M-1190",
        applicant_name="Sam Okafor",
        owner_name="Joan Franco",
    )


@pytest.mark.parametrize(
    "query, numbers",
    [
        ("b2026-0079", {"B2026-0079"}),
        ("B20260079", {"B2026-0079"}),
        ("B2026 0079", {"B2026-0079"}),
        ("Jean-Francois", {"B2026-0079", "B2026-0080"}),  # Jean-François and Jean-Francois
        ("jean-françois", {"B2026-0079", "B2026-0080"}),
        ("JEAN FRANÇOIS tremblay", {"B2026-0079"}),
        ("2402 020 030 01500 0000", {"B2026-0079"}),
        ("2402020030015000000", {"B2026-0079"}),
        ("2402-020-030-01500", {"B2026-0079"}),
        ("Orchard Dr.", {"B2026-0079", "B2026-0080"}),  # Orchard Drive and ORCHARD DR
        ("Orchard Drive", {"B2026-0079", "B2026-0080"}),
        ("47 orchard dr", {"B2026-0079"}),
        ("20M-1187", {"B2026-0079"}),  # the plan number of the legal description
        ("plan 20m1187", {"B2026-0079"}),
        ("Priya Raman", {"B2026-0079"}),  # the applicant
        ("northway homes", {"B2026-0080"}),
        ("Orchard Lane", {"B2026-0081"}),
        ("Orchard Court", set()),
    ],
)
def test_search_finds_the_application_as_people_type_it(inspector, neighbours, query, numbers):
    assert found(inspector, query) == numbers


@pytest.fixture
def issued_permit(inspector, application_a, occupancy_type_a, general_template):
    """An occupancy permit issued on application_a through Finish and Close."""
    visit = Visit.objects.create(
        inspection=application_a.inspections.create(inspection_type=occupancy_type_a),
        sequence=1,
        started_by=inspector,
    )
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=general_template, granted_on=timezone.localdate(), description="Whole"
        ),
    ).permit


def test_search_finds_an_occupancy_permit_number_in_any_form(
    inspector, application_a, issued_permit
):
    permit = issued_permit
    assert permit.number.startswith("OCC-")  # e.g. OCC-2026-0001
    compact = permit.number.replace("-", "").lower()  # occ20260001

    for query in (permit.number, compact, permit.number.lower(), f"{permit.number}."):
        assert found(inspector, query) == {application_a.number}, query
    # The close made the application Occupied; an edit saved afterwards keeps the number.
    application = Application.objects.get(pk=application_a.pk)
    assert application.status == ApplicationStatus.OCCUPIED
    application.owner_name = "Jordan Smith-Okafor"
    application.save()
    assert found(inspector, compact) == {application_a.number}
    assert found(inspector, "smith okafor") == {application_a.number}


def test_search_key_of_an_edit_is_kept_by_save_and_a_status_change_leaves_it(municipality_a):
    application = make_application(municipality_a, owner_name="Zoë Laurent")
    assert "ZOE LAURENT" in application.search_text
    application.owner_name = "Zoë Laurent-Nadeau"
    application.save(update_fields=["owner_name"])
    application.refresh_from_db()
    assert application.search_text == search_key(application)
    assert "LAURENTNADEAU" in application.search_text

    stale = Application.objects.get(pk=application.pk)
    Application.objects.filter(pk=application.pk).update(other_numbers="OCC-2026-0009")
    stale.status = ApplicationStatus.OCCUPIED
    stale.save(update_fields=["status"])  # knows nothing of the number: must not drop it
    Application.objects.filter(pk=application.pk).update(search_text="")
    application.refresh_from_db()
    assert application.search_text == ""  # the status change did not write the key


def test_query_terms_and_key_follow_the_same_rules():
    assert query_terms("  Orchard   Dr.  ") == ["ORCHARD", "DRIVE"]
    assert query_terms("1268 ABBEY CRT.") == ["1268", "ABBEY", "COURT"]
    assert query_terms("Walker's Line") == ["WALKERS", "LINE"]
    assert query_terms("Straße Øster") == ["STRASSE", "OSTER"]
    assert query_terms("-- . ,") == []
    assert len(query_terms("a b c d e f g h")) == 6
    key = search_key(
        SimpleNamespace(
            number="24-019651",
            unit="",
            street_address="1268 Abbey Crt.",
            city="Burlington",
            postal_code="",
            roll_number="",
            applicant_name="",
            owner_name="",
            legal_description="",
            other_numbers="",
        )
    )
    assert key == "24 019651 24019651 1268 ABBEY COURT 1268ABBEYCOURT BURLINGTON"


def test_a_broad_search_is_counted_up_to_1000_and_shows_the_newest(inspector, municipality_a):
    now = timezone.now()
    rows = []
    for i in range(COUNT_LIMIT + 5):
        application = Application(
            municipality=municipality_a,
            number=f"B-2025-{i:05}",
            description="Deck",
            street_address=f"{i} Maple Crescent",
            city="Alpha",
            applicant_name="Sam Okafor",
            # Every fifth pair shares its time: the id orders them, the same on every page.
            last_activity_at=now - datetime.timedelta(minutes=i // 2),
        )
        application.search_text = application.build_search_text()
        rows.append(application)
    Application.objects.bulk_create(rows, batch_size=500)
    newest_first = list(
        Application.objects.filter(municipality=municipality_a)
        .order_by("-last_activity_at", "-id")
        .values_list("number", flat=True)
    )

    response = search(inspector, "maple cres")
    html = response.content.decode()
    assert "More than 1,000 applications" in html
    page = response.context["page_obj"]
    assert page.paginator.num_pages == COUNT_LIMIT // 25
    assert [a.number for a in page] == newest_first[:25]

    last = search(inspector, "maple cres", page=COUNT_LIMIT // 25)
    assert [a.number for a in last.context["page_obj"]] == newest_first[975:1000]
    assert "These are the newest 1,000." in last.content.decode()

    # A precise search among them: counted exactly, ordered the same way.
    response = search(inspector, "Crescent 10")  # 10, 100…109, 110, 210, …, 1000…1004
    numbers = [a.number for a in response.context["page_obj"]]
    expected = [n for n in newest_first if "10" in n.rsplit("-", 1)[1]]
    assert "More than" not in response.content.decode()
    assert f"{len(expected)} applications" in response.content.decode()
    assert numbers == expected[:25]


def test_a_list_of_equal_times_pages_through_every_application_once(inspector, municipality_a):
    same_time = timezone.now()
    for i in range(60):
        make_application(municipality_a, number=f"B-2024-{i:03}")
    Application.objects.update(last_activity_at=same_time)
    seen = []
    for page in (1, 2, 3):
        response = search(inspector, "maple", page=page)
        seen += [a.number for a in response.context["page_obj"]]
    assert seen == [f"B-2024-{i:03}" for i in reversed(range(60))]
    assert "60 applications" in response.content.decode()


def test_migration_fills_the_key_and_the_occupancy_numbers(
    inspector, application_a, issued_permit
):
    from django.apps import apps

    Application.objects.filter(pk=application_a.pk).update(search_text="OLD", other_numbers="")
    migration = importlib.import_module("permits.migrations.0007_search_key")
    migration.fill_search_keys(apps, SimpleNamespace(connection=connection))
    application_a.refresh_from_db()
    assert application_a.other_numbers == issued_permit.number
    assert application_a.search_text == search_key(application_a)
    assert found(inspector, issued_permit.number.lower()) == {application_a.number}
    assert found(inspector, "240202003001500") == {application_a.number}


@pytest.mark.skipif(not BURLINGTON_CSV.is_file(), reason="shared/data/ is not beside the project")
def test_burlington_abbreviated_addresses_are_found_written_in_full(db):
    burlington = Municipality.objects.create(slug="burlington", name="City of Burlington")
    applications_import(
        municipality=burlington,
        data=BURLINGTON_CSV.read_bytes(),
        mapping=load_mapping("burlington"),
    )
    inspector = make_user("burlington_inspector", burlington, Role.INSPECTOR)

    assert "24-019651" in found(inspector, "1268 Abbey Court")  # 1268 ABBEY CRT.
    assert "24-019651" in found(inspector, "1268 abbey crt")
    assert "24-019651" in found(inspector, "24019651")
    assert "22-013665" in found(inspector, "25 2022 Atkinson Drive")  # 2022 ATKINSON DR. UNIT 25
    assert "25-015667" in found(inspector, "1061 North Shore Boulevard East")  # BLVD. E
    assert "24-024354" in found(inspector, "320 walkers line")  # 320 WALKER'S LINE
    assert "More than 1,000 applications" in search(inspector, "").content.decode()
