"""Administrators configure occupancy permits themselves: types and numbering, templates
with validation, versions and preview, and revocation."""

import datetime
import hashlib

import pytest
from django.urls import reverse

from core.models import Activity
from occupancy.checklists import BEFORE_COMPLETION
from occupancy.models import (
    OccupancyPermit,
    OccupancyPermitRevocation,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
    PermitKind,
)
from occupancy.services import GrantDetails, visit_finish_and_close
from tests.conftest import client_for
from tests.factories import make_inspection
from tests.occupancy.conftest import pdf_text

TEMPLATE_ADD = reverse("admin:occupancy_occupancypermittemplate_add")
PREVIEW = reverse("admin:occupancy_occupancypermittemplate_preview")


def template_post(template, **changes):
    data = {
        "municipality": template.municipality_id,
        "permit_type": template.permit_type_id,
        "name": template.name,
        "is_active": "on",
        "body": template.body,
        "stylesheet": template.stylesheet,
    }
    data.update(changes)
    return data


def change_url(template):
    return reverse("admin:occupancy_occupancypermittemplate_change", args=[template.pk])


@pytest.mark.parametrize(
    "body, message",
    [
        ("<p>{% load static %}</p>", "Line 1: Invalid block tag on line 1: 'load'"),
        ("<p>\n{% include 'base.html' %}</p>", "Line 2: Invalid block tag on line 2: 'include'"),
        ("{% extends 'base.html' %}", "Invalid block tag on line 1: 'extends'"),
        ("<p>\n\n{% debug %}</p>", "Line 3: Invalid block tag on line 3: 'debug'"),
        ("{% autoescape off %}{{ permit.description }}{% endautoescape %}", "'autoescape'"),
        ("{{ permit.description|safe }}", "Invalid filter: 'safe'"),
        ("<p>{{ settings.SECRET_KEY }}</p>", "Line 1: Unknown variable {{ settings.SECRET_KEY }}"),
        ("<p>\n{{ permit.numbr }}</p>", "Line 2: permit has no numbr"),
        ("{% if user.is_superuser %}x{% endif %}", "Unknown variable {{ user.is_superuser }}"),
        ("{% if permit.number %}", "Unclosed tag on line 1: 'if'"),
    ],
)
def test_template_validation_refuses_each_dangerous_construct(
    admin_user, general_template, body, message
):
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body=body)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert any(message in error for error in errors), errors
    general_template.refresh_from_db()
    assert general_template.version == 1


def test_variables_are_listed_on_the_template_page(admin_user, general_template):
    html = client_for(admin_user).get(change_url(general_template)).content.decode()
    assert "{{ permit.number }}" in html
    assert "{{ application.roll_number }}" in html
    assert "Preview PDF" in html
    assert 'class="template-editor"' in html


def test_preview_renders_sample_data_and_writes_nothing(admin_user, general_template, settings):
    counts = (
        OccupancyPermitTemplate.objects.count(),
        OccupancyPermitTemplateVersion.objects.count(),
        Activity.objects.count(),
    )
    body = general_template.body.replace(">Occupancy Permit<", ">Certificate of Occupancy<")
    response = client_for(admin_user).post(PREVIEW, template_post(general_template, body=body))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "CERTIFICATE OF OCCUPANCY" in text
    assert "Sample: exterior stair handrail to be installed." in text
    assert counts == (
        OccupancyPermitTemplate.objects.count(),
        OccupancyPermitTemplateVersion.objects.count(),
        Activity.objects.count(),
    )
    general_template.refresh_from_db()
    assert "CERTIFICATE OF OCCUPANCY" not in general_template.body
    assert not (settings.MEDIA_ROOT).exists() or not any(settings.MEDIA_ROOT.rglob("*.pdf"))


def test_preview_of_an_invalid_template_says_why(admin_user, general_template):
    response = client_for(admin_user).post(
        PREVIEW, template_post(general_template, body="{{ request.user }}")
    )
    assert response.status_code == 400
    assert "Unknown variable {{ request.user }}" in response.content.decode()


def issue(visit_inspection, inspector, template):
    from django.utils import timezone

    from inspections.models import Visit

    visit = Visit.objects.create(inspection=visit_inspection, sequence=1, started_by=inspector)
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=template, granted_on=timezone.localdate(), description="Whole building"
        ),
    ).permit


def test_every_save_is_a_version_and_issued_permits_keep_theirs(
    admin_user, inspector, general_template, application_a, occupancy_type_a
):
    first = issue(make_inspection(application_a, occupancy_type_a), inspector, general_template)
    first_pdf = first.pdf.read()
    body = general_template.body.replace(">Occupancy Permit<", ">Occupancy Permit (revised)<")
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body=body)
    )
    assert response.status_code == 302
    general_template.refresh_from_db()
    assert general_template.version == 2
    assert list(
        general_template.versions.order_by("version").values_list("version", flat=True)
    ) == [1, 2]
    second = issue(make_inspection(application_a, occupancy_type_a), inspector, general_template)
    first.refresh_from_db()
    assert (first.template_version.version, second.template_version.version) == (1, 2)
    assert first.pdf.read() == first_pdf
    assert "OCCUPANCY PERMIT (REVISED)" in pdf_text(second.pdf.read())
    assert "(REVISED)" not in pdf_text(first_pdf)
    assert Activity.objects.filter(
        verb="permit_template_saved", actor=admin_user, summary__contains="version 2"
    ).exists()


def test_copy_action_makes_an_inactive_copy(admin_user, general_template):
    client_for(admin_user).post(
        reverse("admin:occupancy_occupancypermittemplate_changelist"),
        {"action": "copy_templates", "_selected_action": [general_template.pk]},
    )
    copy = OccupancyPermitTemplate.objects.get(name="Copy of General occupancy permit")
    assert (copy.is_active, copy.body, copy.version) == (False, general_template.body, 1)
    assert copy.stylesheet == general_template.stylesheet != ""
    assert copy.versions.get().stylesheet == general_template.stylesheet


def test_used_template_cannot_be_deleted(
    admin_user, inspector, general_template, application_a, occupancy_type_a
):
    issue(make_inspection(application_a, occupancy_type_a), inspector, general_template)
    url = reverse("admin:occupancy_occupancypermittemplate_delete", args=[general_template.pk])
    assert client_for(admin_user).post(url, {"post": "yes"}).status_code == 403
    assert OccupancyPermitTemplate.objects.filter(pk=general_template.pk).exists()


def type_post(municipality, **fields):
    data = {
        "municipality": municipality.pk,
        "name": "Temporary occupancy",
        "kind": "temporary",
        "language": "en-ca",
        "is_active": "on",
        "prefix": "TOC",
        "number_format": "{prefix}_{year}_{seq:03}",
        "sequence_key": "temporary",
        "restart_each_year": "on",
        "needs_expiry_date": "on",
        # The checklist inline, empty: a new type gets the Code's list for its kind.
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    "number_format, message",
    [
        ("{prefix}-{year}", "The format needs the {seq} token"),
        ("{prefix}-{month}-{seq}", "Unknown token {month}"),
        ("{prefix}-{year}-{seq:zz}", "The format is not valid"),
        ("OCC-{seq:04}", "needs {year} in the format"),
        ("<script>{seq}", "with letters, digits, '-', '_' and '.' only"),
    ],
)
def test_bad_number_formats_are_refused(admin_user, municipality_a, number_format, message):
    response = client_for(admin_user).post(
        reverse("admin:occupancy_occupancypermittype_add"),
        type_post(municipality_a, number_format=number_format),
    )
    errors = response.context["adminform"].form.errors["number_format"]
    assert any(message in e for e in errors), errors
    assert not OccupancyPermitType.objects.filter(name="Temporary occupancy").exists()


def test_new_type_with_its_own_format_numbers_permits_and_format_changes_never_renumber(
    admin_user, inspector, municipality_a, general_template, application_a, occupancy_type_a
):
    from django.utils import timezone

    client = client_for(admin_user)
    client.post(reverse("admin:occupancy_occupancypermittype_add"), type_post(municipality_a))
    temporary = OccupancyPermitType.objects.get(name="Temporary occupancy")
    assert temporary.kind == PermitKind.TEMPORARY
    # A new type starts with the Building Code's checklist for its kind.
    assert [c.clause for c in temporary.conditions.all()] == [
        clause for clause, _ in BEFORE_COMPLETION
    ]
    template = OccupancyPermitTemplate.objects.create(
        municipality=municipality_a, permit_type=temporary, name="Temp", body=general_template.body
    )
    year = timezone.localdate().year
    permit = issue_with_expiry(application_a, occupancy_type_a, inspector, template)
    assert permit.number == f"TOC_{year}_001"
    temporary.number_format = "{prefix}-{year}-{seq:05}"
    temporary.save()
    permit.refresh_from_db()
    assert permit.number == f"TOC_{year}_001"
    assert (
        issue_with_expiry(application_a, occupancy_type_a, inspector, template).number
        == f"TOC-{year}-00002"
    )


def issue_with_expiry(application, inspection_type, inspector, template):
    import datetime

    from django.utils import timezone

    from inspections.models import Visit

    visit = Visit.objects.create(
        inspection=make_inspection(application, inspection_type), sequence=1, started_by=inspector
    )
    today = timezone.localdate()
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=template,
            granted_on=today,
            description="Temporary",
            expires_on=today + datetime.timedelta(days=60),
            # The type was created in the admin: it has the Code's checklist, all verified.
            conditions={
                pk: "met" for pk in template.permit_type.conditions.values_list("pk", flat=True)
            },
        ),
    ).permit


def test_types_sharing_a_sequence_key_share_numbers(
    inspector, general_template, partial_template, application_a, occupancy_type_a
):
    a = issue(make_inspection(application_a, occupancy_type_a), inspector, general_template)
    from django.utils import timezone

    from inspections.models import Visit

    visit = Visit.objects.create(
        inspection=make_inspection(application_a, occupancy_type_a),
        sequence=1,
        started_by=inspector,
    )
    b = visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=partial_template,
            granted_on=timezone.localdate(),
            description="Phase 1",
            portion_of_building="Ground floor",
        ),
    ).permit
    year = timezone.localdate().year
    assert (a.number, b.number) == (f"OCC-{year}-0001", f"OCC-{year}-0002")


def test_revocation_keeps_the_pdf_issues_a_notice_and_shows_revoked_everywhere(
    admin_user, inspector, general_template, application_a, occupancy_type_a
):
    inspection = make_inspection(application_a, occupancy_type_a)
    permit = issue(inspection, inspector, general_template)
    digest = permit.pdf_sha256
    client = client_for(admin_user)
    change = reverse("admin:occupancy_occupancypermit_change", args=[permit.pk])
    assert "Revoke this permit" in client.get(change).content.decode()
    url = reverse("admin:occupancy_occupancypermit_revoke", args=[permit.pk])
    response = client.post(url, {"reason": " ", "revoked_on": "2020-01-01"})
    assert response.status_code == 400
    response = client.post(
        url,
        {
            "reason": "Occupied before the fire separation was completed.",
            "revoked_on": permit.granted_on.isoformat(),
        },
    )
    assert response.status_code == 302
    permit.refresh_from_db()
    assert permit.status == "revoked"
    assert hashlib.sha256(permit.pdf.read()).hexdigest() == digest == permit.pdf_sha256
    notice = pdf_text(permit.revocation.notice_pdf.read())
    assert "NOTICE OF REVOCATION" in notice
    assert "Occupied before the fire separation was completed." in notice
    assert permit.number in notice
    work_view = client_for(inspector).get(application_a.get_absolute_url()).content.decode()
    assert "Revoked" in work_view
    inspection_view = client_for(inspector).get(inspection.get_absolute_url()).content.decode()
    assert "Revoked" in inspection_view
    assert (
        "revoked"
        in client.get(reverse("admin:occupancy_occupancypermit_changelist"))
        .content.decode()
        .lower()
    )
    assert Activity.objects.filter(verb="occupancy_permit_revoked", actor=admin_user).exists()
    assert "Revoke this permit" not in client.get(change).content.decode()
    assert (
        client.post(
            url, {"reason": "again", "revoked_on": permit.granted_on.isoformat()}
        ).status_code
        == 403
    )


def test_revocation_dated_before_the_grant_is_refused_on_the_form_and_changes_nothing(
    admin_user, inspector, general_template, application_a, occupancy_type_a
):
    permit = issue(make_inspection(application_a, occupancy_type_a), inspector, general_template)
    url = reverse("admin:occupancy_occupancypermit_revoke", args=[permit.pk])
    day_before = permit.granted_on - datetime.timedelta(days=1)
    response = client_for(admin_user).post(
        url, {"reason": "Issued in error", "revoked_on": day_before.isoformat()}
    )
    assert response.status_code == 400
    assert "A permit cannot be revoked before the date it was granted." in (
        response.content.decode()
    )
    permit.refresh_from_db()
    assert permit.status == "issued"
    assert not OccupancyPermitRevocation.objects.exists()


def test_staff_without_the_revoke_permission_cannot_revoke(
    inspector, general_template, application_a, occupancy_type_a
):
    from django.contrib.auth.models import Permission

    from tests.conftest import make_user

    permit = issue(make_inspection(application_a, occupancy_type_a), inspector, general_template)
    # An inspector of the municipality, made staff and given the permission directly: only
    # the role counts, and the Inspector role does not revoke.
    staff = make_user("deskstaff", application_a.municipality, "inspector")
    # Staff status follows the roles (core.signals): forced here, as an operator could.
    type(staff).objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    staff.user_permissions.add(Permission.objects.get(codename="revoke_occupancypermit"))
    url = reverse("admin:occupancy_occupancypermit_revoke", args=[permit.pk])
    assert (
        client_for(staff).post(url, {"reason": "x", "revoked_on": "2030-01-01"}).status_code == 403
    )
    permit.refresh_from_db()
    assert permit.status == "issued"
    assert not OccupancyPermit.objects.filter(status="revoked").exists()


def test_a_template_that_does_not_print_the_checklist_is_pointed_out(
    admin_user, general_template
):
    from occupancy.checklists import permit_type_seed_checklist

    url = reverse("admin:occupancy_occupancypermittemplate_change", args=[general_template.pk])
    warning = "This template does not print the occupancy checklist"
    assert warning not in client_for(admin_user).get(url).content.decode()  # no checklist yet
    permit_type_seed_checklist(permit_type=general_template.permit_type)
    body_without = general_template.body.replace("conditions", "")
    type(general_template).objects.filter(pk=general_template.pk).update(body=body_without)
    assert warning in client_for(admin_user).get(url).content.decode()
