"""The admin's CSV import (upload, dry-run preview, import) and the acceptance of issue 9: an
imported permit is found with the search box and goes through the occupancy workflow."""

import datetime
import os
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import Activity
from exchange.importing import admin_views, forms
from inspections.services import inspection_add, visit_start
from occupancy.models import OccupancyPermit, OccupancyPermitType
from permits.models import Application, ApplicationStatus
from tests.conftest import client_for, make_user
from tests.exchange.test_import import BURLINGTON_CSV, burlington_csv, burlington_row
from tests.occupancy.conftest import make_template

IMPORT_URL = "/admin/permits/application/import/"


def upload(data: bytes, name="permits.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def preview(client, municipality, data: bytes, mapping="burlington"):
    return client.post(
        IMPORT_URL,
        {"municipality": municipality.pk, "mapping": mapping, "file": upload(data)},
    )


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


def test_changelist_links_to_the_import(admin):
    page = admin.get(reverse("admin:permits_application_changelist")).content.decode()
    assert f'href="{IMPORT_URL}">Import from CSV</a>' in page


def test_import_page_offers_the_form(admin, municipality_a):
    page = admin.get(IMPORT_URL).content.decode()
    assert '<option value="burlington">burlington: City of Burlington open data' in page
    assert '<option value="blds">blds: BLDS core permits dataset' in page
    assert f'<option value="{municipality_a.pk}">Town of Alpha</option>' in page
    assert 'type="file" name="file"' in page


def test_preview_shows_rows_as_saved_and_rejections_and_saves_nothing(admin, municipality_a):
    data = burlington_csv(
        burlington_row("24-000001", address="2022 ATKINSON DR.  UNIT 25"),
        burlington_row("24-000002", applied="yesterday"),
    )

    response = preview(admin, municipality_a, data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Dry run, nothing saved. 2 rows read: 1 application would be created" in page
    assert (
        "<td>2</td>\n              <td>create</td>\n              <td>24-000001</td>\n"
        "              <td>2022 Atkinson Dr.</td>\n              <td>25</td>\n"
        "              <td>Burlington, ON</td>\n              <td>Permit issued</td>"
    ) in page
    assert (
        "<tr><td>3</td><td>24-000002</td><td>INDATE &#x27;yesterday&#x27; is not a date "
        "(expected e.g. &#x27;2024/10/03 00:00:00+00&#x27;)</td></tr>"
    ) in page
    assert 'value="Import now: 1 new, 0 updated"' in page
    assert not Application.objects.exists()
    assert default_storage.exists(f"imports/{token_of(page)}.csv")


def test_confirming_the_preview_imports_and_reports(admin, admin_user, municipality_a):
    data = burlington_csv(burlington_row("24-000001"), burlington_row(""))
    token = token_of(preview(admin, municipality_a, data).content.decode())

    response = admin.post(IMPORT_URL, {"token": token}, follow=True)

    assert response.redirect_chain == [
        (
            f"/admin/permits/application/?municipality__id__exact={municipality_a.pk}",
            302,
        )
    ]
    messages = [str(m) for m in response.context["messages"]]
    assert messages[0].startswith(
        "Town of Alpha, permits.csv: 2 rows read: 1 application created, 0 updated"
    )
    assert messages[1] == "Not imported: line 3: no permit number (FILENO is empty)."
    application = Application.objects.get()
    assert (application.municipality, application.number) == (municipality_a, "24-000001")
    assert Activity.objects.get().actor == admin_user
    assert not default_storage.exists(f"imports/{token}.csv")

    # The same confirmation again imports nothing twice.
    response = admin.post(IMPORT_URL, {"token": token}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "This preview was already imported or has expired: upload again."
    ]
    assert Application.objects.count() == 1


def test_a_token_not_of_this_session_imports_nothing(admin, admin_user, municipality_a):
    preview(admin, municipality_a, burlington_csv(burlington_row()))
    other = client_for(admin_user)
    token = token_of(
        preview(other, municipality_a, burlington_csv(burlington_row())).content.decode()
    )

    response = admin.post(IMPORT_URL, {"token": token})

    assert response.status_code == 302
    assert not Application.objects.exists()


def test_an_unreadable_file_is_shown_as_a_form_error(admin, municipality_a):
    page = preview(admin, municipality_a, b"PermitNum,Description\n1,x\n").content.decode()
    assert "The file has no column FILENO, ADDRESS, INDATE" in page
    assert "Is it the right mapping?" in page


def test_a_file_over_the_size_limit_is_refused(admin, municipality_a, monkeypatch):
    monkeypatch.setattr(forms, "IMPORT_MAX_BYTES", 1024 * 1024)
    data = burlington_csv(*[burlington_row(f"24-{n:06}") for n in range(12_000)])

    page = preview(admin, municipality_a, data).content.decode()

    assert f"The file is {forms.megabytes(len(data))} MB; the limit here is 1 MB." in page
    assert not Application.objects.exists()


def test_import_page_is_for_staff_with_application_permissions(municipality_a, inspector):
    for outsider in (None, inspector):  # not staff: sent to log in
        response = client_for(outsider).get(IMPORT_URL)
        assert response.status_code == 302 and "login/?next=" in response["Location"]
    staff = make_user("staff_only", is_staff=True)
    assert client_for(staff).get(IMPORT_URL).status_code == 403
    response = client_for(staff).post(IMPORT_URL, {"token": "x" * 32})
    assert response.status_code == 403


def test_stale_uploads_are_removed(admin, municipality_a):
    old = default_storage.save("imports/old.csv", upload(b"x"))
    past = (timezone.now() - datetime.timedelta(days=2)).timestamp()
    os.utime(default_storage.path(old), (past, past))

    preview(admin, municipality_a, burlington_csv(burlington_row()))

    assert not default_storage.exists(old)
    assert admin_views.PENDING_DIR == "imports"


# Acceptance: imported, found, and through the occupancy workflow -----------------------------


def test_an_imported_permit_is_found_and_gets_its_occupancy_permit(
    municipality_a, inspector, occupancy_type_a
):
    if not BURLINGTON_CSV.is_file():
        missing = f"{BURLINGTON_CSV} is missing: shared/ must lie beside the project"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)  # CI always has shared/: a missing file is a broken setup
        pytest.skip(missing)
    first_rows = b"".join(BURLINGTON_CSV.read_bytes().splitlines(keepends=True)[:40])
    admin = client_for(make_user("boss", is_staff=True, is_superuser=True))
    admin.post(
        IMPORT_URL, {"token": token_of(preview(admin, municipality_a, first_rows).content.decode())}
    )
    assert Application.objects.filter(municipality=municipality_a).count() == 38  # 39 rows

    client = client_for(inspector)
    page = client.get(reverse("permits:application_list"), {"q": "1268 abbey"}).content.decode()
    assert "24-019651" in page and "24-015513" in page
    application = Application.objects.get(number="24-019651")
    assert client.get(application.get_absolute_url()).status_code == 200

    general = OccupancyPermitType.objects.create(municipality=municipality_a, name="General")
    template = make_template(municipality_a, general, "General occupancy permit", "general.html")
    inspection = inspection_add(
        application=application, inspection_type=occupancy_type_a, actor=inspector
    )
    visit_start(inspection=inspection, actor=inspector)
    today = timezone.localdate()
    response = client.post(
        reverse("occupancy:visit_result", args=[inspection.code]),
        {
            "action": "finish",
            "visit_type": "on_site",
            "result": "granted_full",
            "failure_reason": "",
            "template": template.pk,
            "granted_on": today.isoformat(),
            "description": "Attached deck.",
            "portion_of_building": "",
            "expires_on": "",
        },
    )
    assert response.status_code == 302
    confirmation = client.get(response["Location"])
    client.post(
        reverse("occupancy:visit_close", args=[inspection.code]),
        {"draft_fingerprint": confirmation.context["draft_fingerprint"]},
    )

    permit = OccupancyPermit.objects.get()
    assert (permit.application, permit.number) == (application, f"OCC-{today.year}-0001")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.OCCUPIED
