import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import access
from core.backends import MembershipBackend
from core.models import Membership, Role
from permits.models import Application
from permits.queries import get_application
from tests.conftest import client_for, make_application, make_user


def test_application_of_another_municipality_is_a_404(inspector_b, application_a):
    with pytest.raises(Http404):
        get_application(inspector_b, "alpha", application_a.number)


def test_read_only_user_changing_something_is_a_403(viewer, application_a):
    assert get_application(viewer, "alpha", application_a.number) == application_a
    with pytest.raises(PermissionDenied):
        get_application(viewer, "alpha", application_a.number, perm="inspections.add_inspection")


def test_roles_get_their_groups_permissions(inspector, clerk, viewer, municipality_a):
    m = municipality_a.pk
    assert access.can(inspector, m, "inspections.add_visit")
    assert access.can(clerk, m, "inspections.add_inspection")
    assert not access.can(clerk, m, "inspections.add_visit")
    assert not access.can(viewer, m, "inspections.add_inspection")
    assert access.can(viewer, m, "inspections.view_inspection")


def test_role_permissions_follow_the_group_edited_in_the_admin(clerk, municipality_a):
    Group.objects.get(name="Clerk").permissions.clear()
    assert not access.can(clerk, municipality_a.pk, "inspections.add_inspection")


def test_scope_lists_only_the_users_municipalities(
    inspector, inspector_b, admin_user, application_a, application_b
):
    everything = Application.objects.all()
    assert list(access.scope(everything, inspector)) == [application_a]
    assert list(access.scope(everything, inspector_b)) == [application_b]
    assert set(access.scope(everything, admin_user)) == {application_a, application_b}


def test_user_without_membership_sees_nothing(db, municipality_a):
    stranger = make_user("stranger")
    make_application(municipality_a)
    assert list(access.scope(Application.objects.all(), stranger)) == []
    with pytest.raises(Http404):
        access.check(stranger, municipality_a.pk, None)


def test_groups_for_every_role_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"Inspector", "Clerk", "Viewer"}


# --- request.user and its access, loaded in one query (core.backends, issue 16) ---


def _signed_in_page(client):
    """A signed-in page's queries: the user list reads request.user and every check."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("permits:application_list"))
    assert response.status_code == 200
    return response, [query["sql"] for query in context.captured_queries]


def test_a_page_reads_the_user_its_memberships_and_permissions_in_one_query(inspector):
    response, sqls = _signed_in_page(client_for(inspector))
    reading_access = [
        sql
        for sql in sqls
        if any(table in sql for table in ("auth_user", "permits_membership", "core_rolegroup"))
    ]
    assert len(reading_access) == 1, reading_access
    assert response.wsgi_request.user == inspector
    assert (
        "inspections.add_visit"
        in access._access(response.wsgi_request.user).role_perms[Role.INSPECTOR]
    )


def test_the_user_loaded_with_its_access_is_the_orms_user(inspector, municipality_a):
    inspector.last_login = timezone.now().replace(microsecond=0)
    inspector.save()
    loaded = MembershipBackend().get_user(inspector.pk)
    stored = type(inspector).objects.get(pk=inspector.pk)
    for field in type(inspector)._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(stored, field.attname), field.name
    assert timezone.is_aware(loaded.last_login)
    assert not loaded._state.adding
    assert access.role_in(loaded, municipality_a.pk) == Role.INSPECTOR
    assert access.memberships(loaded) == [("Town of Alpha", Role.INSPECTOR)]


def test_access_loaded_with_the_user_is_the_same_as_asked_afterwards(
    db, municipality_a, municipality_b
):
    """Two memberships in two roles, one municipality requiring a second factor, and an
    authenticator: what the backend's query says equals what the fallback query says."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    municipality_b.require_two_factor_for_officials = True
    municipality_b.save()
    user = make_user("twohats", municipality_a, Role.CLERK)
    Membership.objects.create(user=user, municipality=municipality_b, role=Role.INSPECTOR)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    loaded = access._access(MembershipBackend().get_user(user.pk))
    asked = access._UserAccess(type(user).objects.get(pk=user.pk))
    assert vars(loaded) == vars(asked)
    assert loaded.roles == {municipality_a.pk: Role.CLERK, municipality_b.pk: Role.INSPECTOR}
    assert loaded.two_factor_municipalities == {municipality_b.pk}
    assert loaded.has_authenticator
    assert "inspections.add_visit" in loaded.role_perms[Role.INSPECTOR]
    assert "inspections.add_visit" not in loaded.role_perms[Role.CLERK]


def test_a_user_without_membership_and_a_superuser_load_with_no_roles(db, admin_user):
    stranger = make_user("stranger")
    for user in (stranger, admin_user):
        loaded = MembershipBackend().get_user(user.pk)
        assert loaded == user
        assert access._access(loaded).roles == {}
    assert access.is_superuser(MembershipBackend().get_user(admin_user.pk))
    assert not access.is_superuser(MembershipBackend().get_user(stranger.pk))


def test_an_inactive_deleted_or_malformed_user_is_signed_out(inspector, municipality_a):
    client = client_for(inspector)
    assert MembershipBackend().get_user(10**9) is None
    assert MembershipBackend().get_user("not a number") is None
    inspector.is_active = False
    inspector.save()
    assert MembershipBackend().get_user(inspector.pk) is None
    response = client.get(reverse("permits:application_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_role_changed_or_removed_applies_on_the_next_request(inspector, municipality_a):
    client = client_for(inspector)
    page = reverse("permits:application_list")
    assert client.get(page).status_code == 200
    Membership.objects.filter(user=inspector).update(role=Role.VIEWER)
    response = client.get(page)
    assert access.role_in(response.wsgi_request.user, municipality_a.pk) == Role.VIEWER
    Membership.objects.filter(user=inspector).delete()
    response = client.get(page)
    assert access.role_in(response.wsgi_request.user, municipality_a.pk) is None


def test_a_password_changed_elsewhere_still_signs_the_session_out(inspector):
    """The backend loads the password with the user: Django still checks the session's
    hash of it (from review)."""
    client = client_for(inspector)
    page = reverse("permits:application_list")
    assert client.get(page).status_code == 200
    inspector.set_password("something else entirely 42")
    inspector.save()
    response = client.get(page)
    assert response.status_code == 302 and "login" in response["Location"]
    assert SESSION_KEY not in client.session


def test_a_superuser_made_ordinary_loses_it_on_the_next_request(admin_user):
    client = client_for(admin_user)
    page = reverse("permits:application_list")
    assert access.is_superuser(client.get(page).wsgi_request.user)
    admin_user.is_superuser = False
    admin_user.save()
    assert not access.is_superuser(client.get(page).wsgi_request.user)
