from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.models import Membership
from inspections.models import Inspection, Visit
from occupancy.models import OccupancyPermitTemplate
from permits.models import Application
from tests.conftest import client_for


def counts():
    return (
        Application.objects.count(),
        Inspection.objects.count(),
        Visit.objects.count(),
        Membership.objects.count(),
        OccupancyPermitTemplate.objects.count(),
        get_user_model().objects.count(),
    )


def test_seed_demo_twice_creates_everything_once(db, capsys):
    call_command("seed_demo", password="demo-password-1")
    first = counts()
    ids = list(Application.objects.order_by("id").values_list("id", "number"))
    call_command("seed_demo", password="demo-password-1")
    assert counts() == first
    assert list(Application.objects.order_by("id").values_list("id", "number")) == ids
    out = capsys.readouterr().out
    assert "Log in at http://127.0.0.1:8000/accounts/login/ as inspector / demo-password-1" in out
    assert first[0] >= 30


def test_demo_users_see_only_their_own_municipality(db):
    call_command("seed_demo", password="demo-password-1")
    User = get_user_model()
    inspector, inspector2 = (
        User.objects.get(username="inspector"),
        User.objects.get(username="inspector2"),
    )
    assert inspector.check_password("demo-password-1")
    one = client_for(inspector).get("/").context["page_obj"].object_list
    two = client_for(inspector2).get("/").context["page_obj"].object_list
    assert {a.municipality.name for a in one} == {"Town of Example"}
    assert {a.municipality.name for a in two} == {"Township of Sample"}
    some_occupancy = Application.objects.filter(
        inspections__inspection_type__kind="occupancy"
    ).exists()
    none_occupancy = Application.objects.exclude(
        inspections__inspection_type__kind="occupancy"
    ).exists()
    assert some_occupancy and none_occupancy


def test_seed_demo_municipal_administrators_see_only_their_municipality(db):
    call_command("seed_demo", password="demo-password-1")
    User = get_user_model()
    townadmin, sampleadmin = (
        User.objects.get(username=name) for name in ("townadmin", "sampleadmin")
    )
    assert townadmin.is_staff and not townadmin.is_superuser
    for user, own in ((townadmin, "Town of Example"), (sampleadmin, "Township of Sample")):
        client = client_for(user)
        listed = client.get("/admin/occupancy/occupancypermittype/").context["cl"].result_list
        assert {permit_type.municipality.name for permit_type in listed} == {own}
    assert User.objects.get(username="chief").memberships.get().role == "chief_building_official"


def test_seed_demo_without_password_prints_a_generated_one_once(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert (
        "Generated password for admin, inspector, clerk, viewer, inspector2, chief, townadmin, "
        "sampleadmin:" in out
    )
    call_command("seed_demo")
    assert "Passwords unchanged" in capsys.readouterr().out


def test_seed_demo_has_applications_occupied_with_outstanding_and_overdue_matters(db):
    """Issue 13: the Work view's Outstanding matters and the list's "With overdue matters"
    show something on `make run`. The permits are issued by the real Finish and Close."""
    from inspections import rules
    from occupancy.models import OccupancyPermit
    from permits.models import ApplicationStatus

    call_command("seed_demo", password="demo-password-1")
    permits = {p.application.number: p for p in OccupancyPermit.objects.all()}
    assert set(permits) >= {"B-2026-0901", "B-2026-0902"}
    for number in ("B-2026-0901", "B-2026-0902"):
        application = Application.objects.get(number=number)
        assert application.status == ApplicationStatus.OCCUPIED
        assert permits[number].result == "granted_outstanding"
        assert permits[number].pdf_sha256 and permits[number].snapshot["outstanding_matters"]
        assert rules.has_open_matters(application)
    client = client_for(get_user_model().objects.get(username="inspector"))
    occupied = Application.objects.get(number="B-2026-0901")
    page = client.get(occupied.get_absolute_url()).content.decode()
    assert "1 deficiency and 1 order still open on this application." in page
    overdue = [a.number for a in client.get("/?show=overdue_matters").context["page_obj"]]
    assert "B-2026-0902" in overdue and "B-2026-0901" not in overdue
    page = client.get(Application.objects.get(number="B-2026-0902").get_absolute_url())
    assert '<span class="badge text-bg-danger">Overdue</span>' in page.content.decode()
    call_command("seed_demo", password="demo-password-1")  # nothing issued twice
    assert OccupancyPermit.objects.count() == len(permits)


def test_seed_demo_has_french_and_bilingual_permits_to_issue(db):
    """Issue 18: a French user of the demo issues a French (or bilingual) permit: each
    municipality has French and bilingual types, their templates and checklists in their
    language, beside the English ones, which are as before."""
    from core.models import Municipality
    from occupancy.models import OccupancyPermitType
    from occupancy.services import permit_template_preview
    from tests.occupancy.conftest import pdf_text

    call_command("seed_demo", password="demo-password-1")
    for municipality in Municipality.objects.all():
        types = OccupancyPermitType.objects.filter(municipality=municipality)
        assert {t.name: t.language for t in types} == {
            "General": "en-ca",
            "Partial": "en-ca",
            "Général": "fr-ca",
            "Partielle": "fr-ca",
            "General / Général": "bilingual",
        }
        templates = OccupancyPermitTemplate.objects.filter(municipality=municipality)
        assert {t.name: t.permit_type.name for t in templates} == {
            "General occupancy permit": "General",
            "Partial occupancy permit": "Partial",
            "Permis d'occupation général": "Général",
            "Permis d'occupation partielle": "Partielle",
            "General occupancy permit / Permis d'occupation général": "General / Général",
        }
    town = Municipality.objects.get(slug="town-of-example")
    french = OccupancyPermitTemplate.objects.get(
        municipality=town, name="Permis d'occupation général"
    )
    assert french.permit_type.conditions.first().text == (
        "La structure du logement est essentiellement terminée."
    )
    bilingual = OccupancyPermitType.objects.get(municipality=town, name="General / Général")
    assert bilingual.conditions.first().text == (
        "The structure of the dwelling unit is substantially complete. / "
        "La structure du logement est essentiellement terminée."
    )
    text = pdf_text(
        permit_template_preview(
            body=french.body,
            stylesheet=french.stylesheet,
            permit_type=french.permit_type,
            municipality=town,
        )
    )
    assert "PERMIS D'OCCUPATION" in text and "Points en suspens".upper() in text
