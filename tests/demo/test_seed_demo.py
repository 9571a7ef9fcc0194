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
    one = client_for(inspector).get("/").context["page_obj"].paginator.object_list
    two = client_for(inspector2).get("/").context["page_obj"].paginator.object_list
    assert {a.municipality.name for a in one} == {"Town of Example"}
    assert {a.municipality.name for a in two} == {"Township of Sample"}
    some_occupancy = Application.objects.filter(
        inspections__inspection_type__kind="occupancy"
    ).exists()
    none_occupancy = Application.objects.exclude(
        inspections__inspection_type__kind="occupancy"
    ).exists()
    assert some_occupancy and none_occupancy


def test_seed_demo_without_password_prints_a_generated_one_once(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Generated password for admin, inspector, clerk, viewer, inspector2:" in out
    call_command("seed_demo")
    assert "Passwords unchanged" in capsys.readouterr().out
