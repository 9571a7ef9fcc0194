"""The Django admin stays inside the user's municipalities (issue 14).

`world` makes one row of every model the admin shows in each of two municipalities (a test
fails if a newly registered model has none), then Township of Beta's municipal administrator
("sampleadmin") probes every object URL of Town of Alpha's rows, every list and every choice.
"""

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from core.admin_scoping import MunicipalAdmin, SuperuserOnlyAdmin, municipality_path_of
from core.models import Activity, Delivery, DeliveryKind, Membership, Municipality, Role
from demo import builders
from exchange.models import ImportRun
from inspections.models import DefaultInspection, Photo, Visit
from occupancy.defaults import default_template_of_kind
from occupancy.models import (
    OccupancyPermitRevocation,
    PermitNumberSequence,
    RequiredInspection,
)
from scheduling.models import Holiday, InspectorCapacity, SchedulingSettings
from tests.conftest import client_for, make_application, make_user
from tests.db_rows import rows
from tests.factories import (
    jpeg_upload,
    make_closed_visit,
    make_finding,
    make_inspection,
    make_order,
)
from tests.permits.test_constraints import issue_raw_permit
from tests.signing_helpers import store_signing_certificate

User = get_user_model()


def one_of_everything(municipality, inspector, suffix: str):
    """See _one_of_everything_rows."""
    # The closed visits of this world get their findings, photos and reports after
    # closing: history, written past the record guards (PostgreSQL triggers).
    with builders.written_as_history():
        return _one_of_everything_rows(municipality, inspector, suffix)


def _one_of_everything_rows(municipality, inspector, suffix: str):
    """A row of every model of the admin in `municipality`."""
    application = make_application(municipality, number=f"{suffix}-2026-0001")
    framing = builders.inspection_type(municipality=municipality, name="Framing")
    inspection = make_inspection(application, framing, status="closed")
    visit = make_closed_visit(inspection, inspector, sequence=1, result="passed")
    make_finding(visit, inspector)
    make_order(visit, inspector)
    upload = jpeg_upload()
    photo = Photo(visit=visit, description="Wall", uploaded_by=inspector)
    photo.image.save("wall.jpg", ContentFile(upload.read()), save=False)
    photo.thumbnail.save("wall-thumb.jpg", ContentFile(b"thumb"), save=False)
    photo.save()
    DefaultInspection.objects.create(
        municipality=municipality, work_type=application.work_type, inspection_type=framing
    )
    RequiredInspection.objects.create(
        municipality=municipality, work_type=application.work_type, inspection_type=framing
    )
    occupancy = make_inspection(application, framing)
    permit = issue_raw_permit(occupancy, inspector, f"{suffix}-OCC-2026-0001")
    PermitNumberSequence.objects.create(municipality=municipality, key="general", year=2026)
    OccupancyPermitRevocation.objects.create(
        permit=permit,
        revoked_on=permit.granted_on,
        reason="Test",
        revoked_by=inspector,
        notice_pdf="notices/n.pdf",
        notice_sha256="0" * 64,
    )
    Activity.objects.create(
        municipality=municipality, application=application, verb="test", summary="Test"
    )
    Delivery.objects.create(
        municipality=municipality,
        application=application,
        kind=DeliveryKind.CLOSE_DOCUMENTS,
        recipient="applicant@example.org",
        subject="Test",
        body="Test",
    )
    ImportRun.objects.create(
        municipality=municipality,
        uploaded_by=inspector,
        file=f"imports/{suffix}.csv",
        original_name=f"permits-{suffix}.csv",
        size=100,
        sha256="0" * 64,
        mapping="burlington",
        language="en",
    )
    store_signing_certificate(municipality)
    SchedulingSettings.objects.create(municipality=municipality, minimum_notice_days=3)
    Holiday.objects.create(
        municipality=municipality, date=datetime.date(2026, 8, 3), name="Civic Holiday"
    )
    InspectorCapacity.objects.create(municipality=municipality, user=inspector)
    return application


@pytest.fixture
def world(municipality_a, municipality_b, inspector, inspector_b, town_admin, town_admin_b):
    one_of_everything(municipality_a, inspector, "A")
    one_of_everything(municipality_b, inspector_b, "B")
    return municipality_a, municipality_b


def scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, MunicipalAdmin)
    ]


def rows_of(model, municipality):
    path = municipality_path_of(model)
    return model._default_manager.filter(**{path: municipality.pk}).distinct()


def test_every_admin_class_is_scoped_or_for_the_operator_only():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, MunicipalAdmin | SuperuserOnlyAdmin), model


def test_every_scoped_model_has_rows_in_the_world(world):
    alpha, _beta = world
    for model, _model_admin in scoped_admins():
        assert rows_of(model, alpha).exists(), model


def object_urls(model, obj) -> list[str]:
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    return [
        reverse(f"{name}_change", args=[obj.pk]),
        reverse(f"{name}_history", args=[obj.pk]),
        reverse(f"{name}_delete", args=[obj.pk]),
    ]


def test_another_municipalitys_object_is_a_404_at_every_admin_url(world, town_admin_b):
    alpha, _beta = world
    client = client_for(town_admin_b)
    before = rows()
    for model, _model_admin in scoped_admins():
        for obj in rows_of(model, alpha):
            for url in object_urls(model, obj):
                assert client.get(url).status_code == 404, url
                assert client.post(url, {"post": "yes"}).status_code == 404, url
    permit = rows_of(admin_model("occupancypermit"), alpha).first()
    revoke = reverse("admin:occupancy_occupancypermit_revoke", args=[permit.pk])
    assert client.get(revoke).status_code == 404
    assert client.post(revoke, {"reason": "x", "revoked_on": "2026-01-01"}).status_code == 404
    export = reverse("admin:core_municipality_export_blds", args=[alpha.pk])
    assert client.get(export).status_code == 404
    preview = reverse("admin:occupancy_occupancypermittemplate_preview")
    alpha_type = rows_of(admin_model("occupancypermittype"), alpha).first()
    assert client.post(preview, {"permit_type": alpha_type.pk, "body": "x"}).status_code == 404
    user = User.objects.get(username="inspector")
    password = reverse("admin:auth_user_password_change", args=[user.pk])
    assert client.get(password).status_code == 404
    assert client.post(password, {"password1": "x" * 20, "password2": "x" * 20}).status_code == 404
    assert rows() == before


def admin_model(model_name):
    return next(m for m in admin.site._registry if m._meta.model_name == model_name)


def test_lists_show_only_the_users_municipalities(world, town_admin_b):
    alpha, beta = world
    client = client_for(town_admin_b)
    for model, _model_admin in scoped_admins():
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, model
        shown = set(response.context["cl"].result_list)
        assert shown == set(
            rows_of(model, beta).exclude(is_superuser=True)
            if model is User
            else rows_of(model, beta)
        ), model
        # The filters name no other municipality either.
        assert alpha.name not in response.content.decode(), model


def test_every_choice_list_offers_only_the_users_municipalities(world, town_admin_b):
    alpha, _beta = world
    client = client_for(town_admin_b)
    alpha_rows = (
        {
            (model, pk)
            for model, _admin in scoped_admins()
            for pk in rows_of(model, alpha).values_list("pk", flat=True)
        }
        | {(Municipality, alpha.pk)}
        | {
            (User, pk)
            for pk in User.objects.filter(memberships__municipality=alpha).values_list(
                "pk", flat=True
            )
        }
    )
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, MunicipalAdmin):
            continue
        opts = model._meta
        pages = [reverse(f"admin:{opts.app_label}_{opts.model_name}_add")]
        beta_row = rows_of(model, _beta).first()
        pages.append(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[beta_row.pk])
        )
        for page in pages:
            response = client.get(page)
            if response.status_code == 403:  # the role may not add this
                continue
            assert response.status_code == 200, page
            if "adminform" not in response.context:
                continue  # a page of its own, without a form (an import run's)
            forms = [response.context["adminform"].form] + [
                inline.formset.form(prefix="x")
                for inline in response.context["inline_admin_formsets"]
            ]
            for form in forms:
                for name, field in form.fields.items():
                    queryset = getattr(field, "queryset", None)
                    if queryset is None:
                        continue
                    offered = {(queryset.model, pk) for pk in queryset.values_list("pk", flat=True)}
                    assert not offered & alpha_rows, (page, name)
                    checked += 1
    assert checked > 10


def test_sampleadmin_edits_own_permit_type_and_the_change_is_audited(world, town_admin_b):
    _alpha, beta = world
    from occupancy.models import OccupancyPermitType

    permit_type = OccupancyPermitType.objects.get(municipality=beta)
    url = reverse("admin:occupancy_occupancypermittype_change", args=[permit_type.pk])
    client = client_for(town_admin_b)
    page = client.get(url)
    assert page.status_code == 200
    data = {
        name: value
        for name, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data.update(
        {
            "municipality": beta.pk,
            "name": "General occupancy",
            "conditions-TOTAL_FORMS": 0,
            "conditions-INITIAL_FORMS": 0,
        }
    )
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    permit_type.refresh_from_db()
    assert permit_type.name == "General occupancy"
    entry = Activity.objects.get(verb="admin_changed")
    assert entry.municipality == beta
    assert entry.actor == town_admin_b
    assert entry.changes["name"] == ["General", "General occupancy"]
    assert "General" in entry.summary and "General occupancy" in entry.summary


def test_direct_permissions_do_not_open_another_municipality(world, municipality_b):
    """The review's case: a staff user of Beta given template and permit permissions
    directly (not through a role) sees nothing of Alpha and changes nothing."""
    alpha, _beta = world
    user = make_user("helper", municipality_b, Role.VIEWER)
    # Staff status follows the roles (core.signals): forced here, as an operator could.
    User.objects.filter(pk=user.pk).update(is_staff=True)
    user.refresh_from_db()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="occupancy"),
        *Permission.objects.filter(content_type__app_label="inspections"),
    )
    client = client_for(user)
    from occupancy.models import OccupancyPermitTemplate

    template = OccupancyPermitTemplate.objects.get(municipality=alpha)
    before = rows()
    url = reverse("admin:occupancy_occupancypermittemplate_change", args=[template.pk])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"name": "Hacked", "body": "Hello"}).status_code in (403, 404)
    assert rows() == before


def test_inspection_application_and_status_are_read_only_in_the_admin(world, admin_user):
    alpha, beta = world
    from inspections.models import Inspection

    inspection = Inspection.objects.filter(application__municipality=alpha, status="closed").first()
    other = rows_of(admin_model("application"), beta).first()
    client = client_for(admin_user)
    url = reverse("admin:inspections_inspection_change", args=[inspection.pk])
    response = client.post(url, {"application": other.pk, "status": "in_progress"})
    inspection.refresh_from_db()
    assert inspection.application.municipality == alpha
    assert inspection.status == "closed"
    assert response.status_code in (200, 302)


def test_groups_and_lockout_records_are_the_operators_alone(world, town_admin_b, admin_user):
    group = Group.objects.first()
    for client, allowed in ((client_for(town_admin_b), False), (client_for(admin_user), True)):
        for url in (
            reverse("admin:auth_group_changelist"),
            reverse("admin:auth_group_change", args=[group.pk]),
            reverse("admin:axes_accessattempt_changelist"),
            reverse("admin:core_rolegroup_changelist"),
        ):
            assert (client.get(url).status_code == 200) is allowed, url


def test_a_municipal_administrator_cannot_touch_a_person_of_another_municipality(
    world, town_admin_b, municipality_a, municipality_b
):
    shared = make_user("shared", municipality_b, Role.INSPECTOR)
    Membership.objects.create(user=shared, municipality=municipality_a, role=Role.INSPECTOR)
    client = client_for(town_admin_b)
    url = reverse("admin:auth_user_change", args=[shared.pk])
    assert client.get(url).status_code == 200  # a member of Beta: listed, read-only
    before = rows()
    response = client.post(url, {"username": "renamed", "is_active": ""})
    assert response.status_code == 403
    assert rows() == before
    superuser = User.objects.filter(is_superuser=True).first() or make_user(
        "root", is_superuser=True, is_staff=True
    )
    assert client.get(reverse("admin:auth_user_change", args=[superuser.pk])).status_code == 404


def test_a_new_member_is_added_to_the_administrators_municipality_only(
    world, town_admin_b, municipality_a, municipality_b
):
    client = client_for(town_admin_b)
    url = reverse("admin:auth_user_add")
    data = {
        "username": "newclerk",
        "first_name": "New",
        "last_name": "Clerk",
        "role": Role.CLERK,
        "usable_password": "false",
    }
    refused = client.post(url, {**data, "municipality": municipality_a.pk})
    assert refused.status_code == 200
    assert "municipality" in refused.context["adminform"].form.errors
    assert not User.objects.filter(username="newclerk").exists()
    response = client.post(url, {**data, "municipality": municipality_b.pk})
    assert response.status_code == 302
    member = User.objects.get(username="newclerk")
    assert list(member.memberships.values_list("municipality", "role")) == [
        (municipality_b.pk, Role.CLERK)
    ]
    assert not member.is_staff
    assert Activity.objects.filter(verb="admin_added", municipality=municipality_b).exists()


def test_granting_the_municipal_administrator_role_opens_the_admin(world, municipality_b):
    person = make_user("person", municipality_b, Role.CLERK)
    assert not person.is_staff
    membership = person.memberships.get()
    superuser = make_user("root", is_superuser=True, is_staff=True)
    url = reverse("admin:core_membership_change", args=[membership.pk])
    response = client_for(superuser).post(
        url, {"user": person.pk, "municipality": municipality_b.pk, "role": Role.MUNICIPAL_ADMIN}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_staff
    entry = Activity.objects.get(verb="admin_changed")
    assert entry.changes["role"] == ["Clerk", "Municipal administrator"] or entry.changes[
        "role"
    ] == [Role.CLERK, Role.MUNICIPAL_ADMIN]


def test_visit_rows_are_read_only_for_everyone(world, admin_user):
    alpha, _beta = world
    visit = Visit.objects.filter(inspection__application__municipality=alpha).first()
    client = client_for(admin_user)
    url = reverse("admin:inspections_visit_change", args=[visit.pk])
    before = rows()
    client.post(url, {"status": "open", "closed_at": ""})
    assert rows() == before
    assert timezone.now() - visit.closed_at < datetime.timedelta(days=1)


def test_only_the_operator_sets_the_second_factor_requirement(world, town_admin_b):
    _alpha, beta = world
    url = reverse("admin:core_municipality_change", args=[beta.pk])
    page = client_for(town_admin_b).get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "require_two_factor_for_officials" not in form.fields
    assert "require_two_factor_for_officials" in page.context["adminform"].readonly_fields


def test_deleting_memberships_in_bulk_ends_staff_status(world, municipality_b, admin_user):
    person = make_user("deputy", municipality_b, Role.MUNICIPAL_ADMIN)
    assert person.is_staff
    response = client_for(admin_user).post(
        reverse("admin:core_membership_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [person.memberships.get().pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.memberships.exists()
    assert not person.is_staff


def test_moving_a_membership_to_another_person_resyncs_both(world, municipality_b, admin_user):
    former = make_user("former", municipality_b, Role.MUNICIPAL_ADMIN)
    successor = make_user("successor")
    membership = former.memberships.get()
    url = reverse("admin:core_membership_change", args=[membership.pk])
    response = client_for(admin_user).post(
        url,
        {"user": successor.pk, "municipality": municipality_b.pk, "role": Role.MUNICIPAL_ADMIN},
    )
    assert response.status_code == 302
    former.refresh_from_db()
    successor.refresh_from_db()
    assert (former.is_staff, successor.is_staff) == (False, True)


def test_deleting_a_person_deletes_their_memberships_without_writing_them(
    world, municipality_b, admin_user
):
    person = make_user("leaving", municipality_b, Role.MUNICIPAL_ADMIN)
    url = reverse("admin:auth_user_delete", args=[person.pk])
    assert client_for(admin_user).post(url, {"post": "yes"}).status_code == 302
    assert not User.objects.filter(username="leaving").exists()
    assert not Membership.objects.filter(user_id=person.pk).exists()


def page_data(response) -> dict:
    """What the browser posts back from an admin change page, unchanged: the main form, and
    each inline's management form and rows."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms += list(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def test_a_municipal_administrator_edits_a_permit_types_checklist(world, town_admin):
    from occupancy.checklists import permit_type_seed_checklist
    from occupancy.models import OccupancyPermitType

    alpha, _beta = world
    permit_type = OccupancyPermitType.objects.filter(municipality=alpha).first()
    permit_type_seed_checklist(permit_type=permit_type)
    count = permit_type.conditions.count()
    assert count > 1
    client = client_for(town_admin)
    url = reverse("admin:occupancy_occupancypermittype_change", args=[permit_type.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = page_data(page)
    assert int(data["conditions-INITIAL_FORMS"]) == count
    first = permit_type.conditions.order_by("display_order", "id").first()
    index = next(i for i in range(count) if int(data[f"conditions-{i}-id"]) == first.pk)
    data[f"conditions-{index}-text"] = "The fire alarm system is verified."
    response = client.post(url, data)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.text == "The fire alarm system is verified."
    assert permit_type.conditions.count() == count
    entry = Activity.objects.get(verb="admin_changed", summary__contains="fire alarm")
    assert (entry.municipality, entry.actor) == (alpha, town_admin)
    assert entry.changes["text"][1] == "The fire alarm system is verified."


def test_a_municipal_administrator_edits_a_persons_memberships_on_their_page(
    world, town_admin, inspector, municipality_b
):
    alpha, beta = world
    client = client_for(town_admin)
    url = reverse("admin:auth_user_change", args=[inspector.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = page_data(page)
    assert data["memberships-INITIAL_FORMS"] == 1
    (membership,) = inspector.memberships.all()
    choices = page.context["inline_admin_formsets"][0].formset.forms[0].fields["municipality"]
    assert list(choices.queryset) == [alpha]
    # Another municipality cannot be chosen: refused at the field, nothing changed.
    before = rows()
    refused = client.post(url, {**data, "memberships-0-municipality": beta.pk})
    assert refused.status_code == 200
    assert rows() == before
    response = client.post(url, {**data, "memberships-0-role": Role.CLERK})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.municipality, membership.role) == (alpha, Role.CLERK)
    entry = Activity.objects.get(verb="admin_changed", actor=town_admin)
    assert entry.municipality == alpha


def test_a_shared_persons_page_shows_only_the_administrators_memberships(
    world, town_admin, inspector, municipality_b
):
    alpha, beta = world
    Membership.objects.create(user=inspector, municipality=beta, role=Role.VIEWER)
    page = client_for(town_admin).get(reverse("admin:auth_user_change", args=[inspector.pk]))
    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    assert [form.instance.municipality for form in inline.formset.forms] == [alpha]
    assert beta.name not in page.content.decode()


def test_an_audit_entry_records_only_what_was_changed(world, town_admin, inspector):
    client = client_for(town_admin)
    url = reverse("admin:auth_user_change", args=[inspector.pk])
    data = page_data(client.get(url))
    response = client.post(url, {**data, "first_name": "Robin"})
    assert response.status_code == 302
    entry = Activity.objects.get(verb="admin_changed", actor=town_admin)
    # date_joined is unchanged (it showed as changed: UTC before, local time after).
    assert entry.changes == {"first_name": ["Inspector", "Robin"]}


def test_a_field_named_like_a_secret_is_still_recorded(world, admin_user):
    from occupancy.models import OccupancyPermitType

    alpha, _beta = world
    permit_type = OccupancyPermitType.objects.filter(municipality=alpha).first()
    client = client_for(admin_user)
    url = reverse("admin:occupancy_occupancypermittype_change", args=[permit_type.pk])
    data = page_data(client.get(url))
    response = client.post(url, {**data, "sequence_key": "shared"})
    assert response.status_code == 302
    entry = Activity.objects.get(verb="admin_changed")
    assert entry.changes == {"sequence_key": [permit_type.sequence_key, "shared"]}


def test_a_records_municipality_cannot_be_changed(world, admin_user):
    from occupancy.models import OccupancyPermitType

    alpha, beta = world
    permit_type = OccupancyPermitType.objects.filter(municipality=alpha).first()
    client = client_for(admin_user)
    url = reverse("admin:occupancy_occupancypermittype_change", args=[permit_type.pk])
    page = client.get(url)
    assert "municipality" in page.context["adminform"].readonly_fields
    response = client.post(url, {**page_data(page), "municipality": beta.pk})
    assert response.status_code == 302
    permit_type.refresh_from_db()
    assert permit_type.municipality == alpha
    membership = Membership.objects.filter(municipality=alpha).first()
    url = reverse("admin:core_membership_change", args=[membership.pk])
    page = client.get(url)
    response = client.post(url, {**page_data(page), "municipality": beta.pk})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.municipality == alpha


def test_a_template_saved_in_the_admin_is_audited_with_its_changes(world, admin_user):
    from occupancy.models import OccupancyPermitTemplate

    alpha, _beta = world
    template = OccupancyPermitTemplate.objects.filter(municipality=alpha).first()
    client = client_for(admin_user)
    url = reverse("admin:occupancy_occupancypermittemplate_change", args=[template.pk])
    data = page_data(client.get(url))
    body = default_template_of_kind(template.permit_type.kind).body.strip()
    OccupancyPermitTemplate.objects.filter(pk=template.pk).update(body=body)
    response = client.post(url, {**data, "name": "Renamed", "body": body})
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = Activity.objects.get(verb="admin_changed")
    assert entry.changes == {"name": [template.name, "Renamed"]}
    template.refresh_from_db()
    assert (template.name, template.version) == ("Renamed", 2)
    assert (entry.municipality, entry.actor) == (alpha, admin_user)


def test_a_password_set_in_the_admin_is_audited_without_the_password(world, town_admin, inspector):
    alpha, _beta = world
    url = reverse("admin:auth_user_password_change", args=[inspector.pk])
    password = "a-long-new-passphrase-2026"
    response = client_for(town_admin).post(
        url, {"password1": password, "password2": password, "usable_password": "true"}
    )
    assert response.status_code == 302
    entry = Activity.objects.get(verb="admin_password_changed")
    assert (entry.municipality, entry.actor) == (alpha, town_admin)
    assert entry.summary == f"Password set in the admin for {inspector}"
    assert password not in str(entry.changes) + entry.summary


def test_the_add_form_of_one_administrator_does_not_change_anothers(world, town_admin_b):
    from core.admin_users import StaffMemberCreationForm

    assert client_for(town_admin_b).get(reverse("admin:auth_user_add")).status_code == 200
    offered = StaffMemberCreationForm.base_fields["municipality"].queryset
    assert set(offered) == set(Municipality.objects.all())


def test_the_roles_column_names_only_the_administrators_municipalities(
    world, town_admin, inspector
):
    alpha, beta = world
    Membership.objects.create(user=inspector, municipality=beta, role=Role.VIEWER)
    page = client_for(town_admin).get(reverse("admin:auth_user_changelist"))
    html = page.content.decode()
    assert f"Inspector at {alpha}" in html
    assert f"at {beta}" not in html


def test_copying_templates_needs_the_right_to_manage_them(world, admin_user, municipality_b):
    from occupancy.models import OccupancyPermitTemplate

    alpha, beta = world
    viewer = make_user("beta_helper", beta, Role.VIEWER)
    User.objects.filter(pk=viewer.pk).update(is_staff=True)
    template = OccupancyPermitTemplate.objects.get(municipality=beta)
    changelist = reverse("admin:occupancy_occupancypermittemplate_changelist")
    before = rows(OccupancyPermitTemplate)
    response = client_for(viewer).post(
        changelist, {"action": "copy_templates", "_selected_action": [template.pk]}
    )
    assert response.status_code in (302, 403)
    assert rows(OccupancyPermitTemplate) == before
