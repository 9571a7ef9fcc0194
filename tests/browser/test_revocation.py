"""Issue 14 in a real browser: the chief building official revokes an occupancy permit from the
Work view (a date after today refused at its field first); the permit then reads Revoked with
its date and reason, and links its notice, in the Work view and in All visits. Every page is
checked by axe, screenshotted at 1280 and 390 px and checked for sideways scrolling."""

import datetime
import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from core.models import Role, RoleGroup
from occupancy.models import OccupancyPermit
from occupancy.services import GrantDetails, visit_finish_and_close
from tests.browser.conftest import assert_errors_described, log_in_with_cookie
from tests.conftest import make_user
from tests.factories import make_inspection

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
REASON = (
    "Occupied before the fire separation between the garage and the dwelling was completed; "
    "the owner was told on site and in writing."
)


@pytest.fixture
def roles_with_groups(role_groups):
    """A transactional test's flush removes the role groups the migrations made: link each
    role to its group again, with the migration's starting permissions."""
    migration = importlib.import_module("core.migrations.0002_roles_and_permissions")
    for role, (name, perms) in migration.ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        RoleGroup.objects.get_or_create(role=role, defaults={"group": group})
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def test_the_chief_building_official_revokes_a_permit_from_the_work_view(
    context,
    page,
    pages,
    live_server,
    roles_with_groups,
    inspector,
    municipality_a,
    application_a,
    occupancy_type_a,
    permit_templates,
):
    chief = make_user("chief", municipality_a, Role.CHIEF_BUILDING_OFFICIAL, first_name="Chris")
    inspection = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    visit = inspection.visits.create(sequence=1, started_by=inspector)
    permit = visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=permit_templates["general"],
            granted_on=TODAY - datetime.timedelta(days=5),
            description="Single detached dwelling, two storeys, with attached garage.",
        ),
    ).permit
    log_in_with_cookie(context, live_server, chief)

    page.goto(application_a.get_absolute_url())
    occupancy = page.locator("#occupancy")
    expect(occupancy.get_by_role("link", name=f"Revoke {permit.number}")).to_be_visible()
    pages.check("work-view-issued")
    occupancy.get_by_role("link", name=f"Revoke {permit.number}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Revoke occupancy permit {permit.number}"
    )
    expect(page.locator("main")).to_contain_text("Revocation is permanent: it cannot be undone.")
    pages.check("revoke-page")

    # A date after today is refused at its field; nothing is revoked.
    page.get_by_label("Reason for the revocation").fill(REASON)
    page.get_by_label("Revoked effective").fill((TODAY + datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name=f"Revoke permit {permit.number}").click()
    expect(page.locator("main")).to_contain_text("A revocation cannot take effect after today.")
    assert_errors_described(page, 1)
    pages.check("revoke-refused")
    assert not OccupancyPermit.objects.get(pk=permit.pk).is_revoked

    effective = TODAY - datetime.timedelta(days=1)
    page.get_by_label("Revoked effective").fill(effective.isoformat())
    page.get_by_role("button", name=f"Revoke permit {permit.number}").click()
    expect(page.locator("#messages")).to_contain_text(
        f"Occupancy permit {permit.number} revoked effective {effective.isoformat()}"
    )
    expect(occupancy).to_contain_text("Revoked")
    expect(occupancy).to_contain_text(f"Effective {effective.isoformat()}")
    expect(occupancy).to_contain_text(REASON)
    notice = f"Notice of revocation of {permit.number} (PDF)"
    expect(occupancy.get_by_role("link", name=notice)).to_be_visible()
    expect(occupancy.get_by_role("link", name=f"Revoke {permit.number}")).to_have_count(0)
    pages.check("work-view-revoked")

    page.goto(inspection.get_absolute_url())
    visits = page.locator("#visits")
    expect(visits).to_contain_text("Revoked")
    expect(visits).to_contain_text(f"Effective {effective.isoformat()}: {REASON}")
    expect(visits.get_by_role("link", name=notice)).to_be_visible()
    pages.check("all-visits-revoked")
