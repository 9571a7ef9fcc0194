"""Users and roles, default inspections, the letterhead logo and the audit trail."""

import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.models import Activity, Membership
from inspections.models import DefaultInspection, Finding, Inspection, Visit
from permits.models import WorkType
from tests.conftest import client_for, make_application
from tests.factories import make_finding, make_inspection


def test_admin_adds_a_user_to_a_municipality_with_a_role_in_one_form(admin_user, municipality_a):
    response = client_for(admin_user).post(
        reverse("admin:auth_user_add"),
        {
            "username": "newinspector",
            "first_name": "Noor",
            "last_name": "Haddad",
            "email": "noor@example.org",
            "municipality": municipality_a.pk,
            "role": "inspector",
            "usable_password": "true",
            "password1": "a-long-passphrase-2026",
            "password2": "a-long-passphrase-2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = get_user_model().objects.get(username="newinspector")
    assert (user.get_full_name(), user.check_password("a-long-passphrase-2026")) == (
        "Noor Haddad",
        True,
    )
    assert list(Membership.objects.filter(user=user).values_list("municipality", "role")) == [
        (municipality_a.pk, "inspector")
    ]


def test_new_application_gets_the_default_inspections_of_its_work_type(
    municipality_a, occupancy_type_a, framing_type_a
):
    DefaultInspection.objects.create(
        municipality=municipality_a, work_type=WorkType.NEW, inspection_type=framing_type_a
    )
    DefaultInspection.objects.create(
        municipality=municipality_a, work_type=WorkType.NEW, inspection_type=occupancy_type_a
    )
    DefaultInspection.objects.create(
        municipality=municipality_a, work_type=WorkType.DEMOLITION, inspection_type=framing_type_a
    )
    new = make_application(municipality_a, number="B-1", work_type=WorkType.NEW)
    demolition = make_application(municipality_a, number="B-2", work_type=WorkType.DEMOLITION)
    assert sorted(new.inspections.values_list("inspection_type__name", flat=True)) == [
        "Framing",
        "Occupancy",
    ]
    assert list(demolition.inspections.values_list("inspection_type__name", flat=True)) == [
        "Framing"
    ]
    assert Activity.objects.filter(
        application=new, verb="default_inspections_added", summary__contains="Framing"
    ).exists()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 120), (20, 60, 120, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def municipality_post(municipality, logo):
    return {
        "name": municipality.name,
        "slug": municipality.slug,
        "department_name": "Building Department",
        "province": "ON",
        "city": "Alpha",
        "chief_building_official_title": "Chief Building Official",
        "letterhead_logo": logo,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }


def test_letterhead_logo_is_validated_like_a_photo(admin_user, municipality_a):
    url = reverse("admin:core_municipality_change", args=[municipality_a.pk])
    client = client_for(admin_user)
    fake = SimpleUploadedFile("logo.png", b"<html><script>alert(1)</script></html>")
    response = client.post(url, municipality_post(municipality_a, fake))
    assert response.context["adminform"].form.errors["letterhead_logo"] == [
        "This file is not a JPEG, PNG, WebP or HEIC image."
    ]
    response = client.post(
        url, municipality_post(municipality_a, SimpleUploadedFile("logo.png", png_bytes()))
    )
    assert response.status_code == 302
    municipality_a.refresh_from_db()
    with municipality_a.letterhead_logo.open("rb") as handle:
        assert Image.open(handle).format == "JPEG"


def test_audit_trail_records_who_changed_what_and_shows_it_on_the_work_view(
    inspector, application_a, occupancy_type_a
):
    client = client_for(inspector)
    inspection = make_inspection(application_a, occupancy_type_a)
    client.post(reverse("inspections:visit_start", args=[inspection.code]))
    visit = Visit.objects.get()
    finding = make_finding(visit, inspector, description="Guard too low")
    client.post(
        reverse("inspections:finding_edit", args=[finding.code]),
        {"discovery_date": "2026-03-01", "description": "Guard too low on deck", "is_remark": "on"},
    )
    client.post(reverse("inspections:finding_delete", args=[finding.code]))
    verbs = list(
        Activity.objects.filter(application=application_a)
        .order_by("at", "id")
        .values_list("verb", "actor__username")
    )
    assert verbs == [
        ("visit_started", "inspector"),
        ("finding_changed", "inspector"),
        ("finding_deleted", "inspector"),
    ]
    changed = Activity.objects.get(verb="finding_changed").summary
    assert "description: “Guard too low” → “Guard too low on deck”" in changed
    assert "remark: no → yes" in changed
    html = client.get(application_a.get_absolute_url()).content.decode()
    assert "History" in html and "Guard too low on deck" in html
    assert not Finding.objects.exists() and Inspection.objects.count() == 1
