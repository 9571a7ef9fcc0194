import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404

from core import access
from permits.models import Application
from permits.queries import get_application
from tests.conftest import make_application


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
    from tests.conftest import make_user

    stranger = make_user("stranger")
    make_application(municipality_a)
    assert list(access.scope(Application.objects.all(), stranger)) == []
    with pytest.raises(Http404):
        access.check(stranger, municipality_a.pk, None)


def test_groups_for_every_role_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"Inspector", "Clerk", "Viewer"}
