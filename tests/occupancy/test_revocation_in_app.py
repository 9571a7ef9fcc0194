"""Revocation in the app (issue 14, deliverable 4): the chief building official revokes an
issued permit from the Work view with a reason and an effective date; the permit shows as
Revoked with both in the Work view and All visits, the notice of revocation is downloadable in
both places, and the issued permit PDF stays byte for byte as issued. The rules live in
occupancy.rules.revocation_refusals, shown at the fields by the app's page and the admin's and
enforced by occupancy_permit_revoke under the permit's lock."""

import datetime
import hashlib
import re

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.urls import reverse
from django.utils import timezone
from hypothesis import given

from core.models import Activity
from occupancy.exceptions import RevocationRefused
from occupancy.models import OccupancyPermit, OccupancyPermitRevocation, PermitStatus
from occupancy.services import GrantDetails, occupancy_permit_revoke, visit_finish_and_close
from permits.models import Application
from tests.conftest import client_for
from tests.db_rows import media_files, rows
from tests.occupancy.conftest import pdf_text
from tests.test_fuzzing import FUZZ, form_data

TODAY = timezone.localdate()
GRANTED_ON = TODAY - datetime.timedelta(days=10)
REASON = "Occupied before the fire separation between the units was completed."


@pytest.fixture
def permit(inspector, open_visit, general_template):
    """A General permit granted ten days ago, issued through Finish and Close."""
    return visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=general_template, granted_on=GRANTED_ON, description="Single dwelling."
        ),
    ).permit


def revoke_url(permit) -> str:
    return reverse("occupancy:permit_revoke", args=[permit.municipality.slug, permit.number])


def notice_url(permit) -> str:
    return reverse(
        "occupancy:revocation_notice_pdf", args=[permit.municipality.slug, permit.number]
    )


def permit_url(permit) -> str:
    return reverse("occupancy:permit_pdf", args=[permit.municipality.slug, permit.number])


def everything():
    """What a refused revocation must leave alone: the rows it could touch and the files."""
    return (
        rows(OccupancyPermit, OccupancyPermitRevocation, Activity, Application),
        media_files(),
    )


def section(html: str, section_id: str) -> str:
    """The page's <section id=…> element, as served."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section #{section_id}"
    return match.group(0)


def post(client, permit, reason=REASON, revoked_on=TODAY):
    return client.post(
        revoke_url(permit),
        {"reason": reason, "revoked_on": revoked_on.isoformat() if revoked_on else ""},
    )


# The page and the revocation


def test_revoke_page_says_that_revocation_is_permanent_and_what_it_issues(chief, permit):
    response = client_for(chief).get(revoke_url(permit))
    assert response.status_code == 200
    html = " ".join(response.content.decode().split())
    assert f"Revoke occupancy permit <span class=\"text-nowrap\">{permit.number}</span>" in html
    assert "Revocation is permanent: it cannot be undone." in html
    assert "The issued permit PDF is not changed" in html
    assert "<strong>notice of revocation</strong> PDF is issued" in html
    assert 'name="reason"' in html and 'maxlength="5000"' in html
    assert f'name="revoked_on" value="{TODAY.isoformat()}"' in html
    assert f"Between the date the permit was granted ({GRANTED_ON.isoformat()})" in html


def test_chief_revokes_a_permit_and_its_pdf_stays_as_issued(chief, permit, application_a):
    issued_pdf = permit.pdf.read()
    client = client_for(chief)
    work_view = client.get(application_a.get_absolute_url()).content.decode()
    assert f'href="{revoke_url(permit)}"' in section(work_view, "occupancy")

    response = post(client, permit, revoked_on=TODAY - datetime.timedelta(days=2))

    assert response.status_code == 302
    assert response["Location"] == application_a.get_absolute_url() + "#occupancy"
    page = client.get(response["Location"]).content.decode()
    effective = (TODAY - datetime.timedelta(days=2)).isoformat()
    assert (
        f"Occupancy permit {permit.number} revoked effective {effective}; notice of revocation "
        "issued." in page
    )
    permit.refresh_from_db()
    assert permit.status == PermitStatus.REVOKED
    revocation = permit.revocation
    assert (revocation.reason, revocation.revoked_on, revocation.revoked_by) == (
        REASON,
        TODAY - datetime.timedelta(days=2),
        chief,
    )
    # The issued permit is never changed: same bytes, same recorded digest, same download.
    assert permit.pdf.read() == issued_pdf
    assert permit.pdf_sha256 == hashlib.sha256(issued_pdf).hexdigest()
    assert b"".join(client.get(permit_url(permit)).streaming_content) == issued_pdf
    # The audit trail, in the application's History.
    activity = Activity.objects.get(verb="occupancy_permit_revoked")
    assert (activity.actor, activity.application_id) == (chief, application_a.pk)
    history = section(page, "history")
    assert f"Occupancy permit {permit.number} revoked effective {effective}: {REASON}" in history
    assert "Chief" in history  # the actor's name


def test_the_reason_is_saved_without_surrounding_blanks(chief, permit):
    assert post(client_for(chief), permit, reason=f"  \n{REASON}\n  ").status_code == 302
    assert OccupancyPermitRevocation.objects.get().reason == REASON


# Refusals: each at its field, nothing changed


@pytest.mark.parametrize(
    "reason, revoked_on, field, message",
    [
        (REASON, GRANTED_ON - datetime.timedelta(days=1), "revoked_on",
         "A permit cannot be revoked before the date it was granted."),
        (REASON, TODAY + datetime.timedelta(days=1), "revoked_on",
         "A revocation cannot take effect after today."),
        (REASON, None, "revoked_on", "Enter the date the revocation takes effect."),
        ("", TODAY, "reason", "Write the reason for the revocation."),
        ("   \n  ", TODAY, "reason", "Write the reason for the revocation."),
        ("x" * 5001, TODAY, "reason",
         "Keep this to at most 5,000 characters (it has 5,001)."),
    ],
    ids=["before-grant", "after-today", "no-date", "no-reason", "blank-reason", "too-long"],
)
def test_refused_revocation_says_why_at_the_field_and_changes_nothing(
    chief, permit, reason, revoked_on, field, message
):
    before = everything()
    response = post(client_for(chief), permit, reason=reason, revoked_on=revoked_on)
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    html = response.content.decode()
    # Shown under its field (crispy's error element for that input), with the form kept.
    assert re.search(rf'id="error_1_id_{field}"[^>]*>\s*<strong>{re.escape(message)}', html)
    assert everything() == before


def test_an_empty_post_is_refused_at_both_fields(chief, permit):
    before = everything()
    response = client_for(chief).post(revoke_url(permit), {})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "reason": ["Write the reason for the revocation."],
        "revoked_on": ["Enter the date the revocation takes effect."],
    }
    assert everything() == before


def test_an_effective_date_on_the_grant_date_or_today_is_accepted(chief, permit):
    assert post(client_for(chief), permit, revoked_on=GRANTED_ON).status_code == 302
    assert OccupancyPermitRevocation.objects.get().revoked_on == GRANTED_ON


def test_an_already_revoked_permit_is_not_revoked_again(chief, permit):
    occupancy_permit_revoke(permit=permit, actor=chief, reason=REASON, revoked_on=TODAY)
    client = client_for(chief)
    before = everything()

    response = post(client, permit, reason="Another reason")

    assert response.status_code == 400
    assert response.context["form"].errors == {
        NON_FIELD_ERRORS: [f"Occupancy permit {permit.number} is already revoked."]
    }
    html = response.content.decode()
    assert f"Occupancy permit {permit.number} is already revoked." in html
    assert f'href="{notice_url(permit)}"' in html
    assert 'name="reason"' not in html  # no form to revoke it again
    assert everything() == before
    page = client.get(revoke_url(permit))
    assert page.status_code == 200
    assert "This permit is already revoked." in page.content.decode()
    assert REASON in page.content.decode()


def test_a_second_revocation_waiting_on_the_lock_is_refused_by_the_service(chief, permit):
    """Two officials (or two tabs) revoke at once: the second read the permit as issued and
    passed the form; under the lock the service sees it revoked and refuses it."""
    stale = OccupancyPermit.objects.get(pk=permit.pk)
    occupancy_permit_revoke(permit=permit, actor=chief, reason=REASON, revoked_on=TODAY)
    before = everything()
    with pytest.raises(RevocationRefused) as refused:
        occupancy_permit_revoke(permit=stale, actor=chief, reason="Again", revoked_on=TODAY)
    assert refused.value.refusals == {
        NON_FIELD_ERRORS: f"Occupancy permit {permit.number} is already revoked."
    }
    assert everything() == before


def test_the_service_refuses_a_revocation_dated_after_today(chief, permit):
    before = everything()
    with pytest.raises(RevocationRefused) as refused:
        occupancy_permit_revoke(
            permit=permit,
            actor=chief,
            reason=REASON,
            revoked_on=TODAY + datetime.timedelta(days=1),
        )
    assert refused.value.refusals == {"revoked_on": "A revocation cannot take effect after today."}
    assert everything() == before


# Who may revoke


@pytest.mark.parametrize("persona", ["inspector", "clerk", "viewer"])
def test_a_role_without_the_revoke_permission_gets_403_and_changes_nothing(
    request, persona, permit, application_a
):
    client = client_for(request.getfixturevalue(persona))
    before = everything()
    assert client.get(revoke_url(permit)).status_code == 403
    assert post(client, permit).status_code == 403
    assert everything() == before
    # And no Revoke button is offered to them.
    work_view = client.get(application_a.get_absolute_url()).content.decode()
    assert revoke_url(permit) not in work_view
    assert ">Revoke<" not in section(work_view, "occupancy")


def test_another_municipality_gets_404_and_changes_nothing(inspector_b, permit):
    client = client_for(inspector_b)
    before = everything()
    assert client.get(revoke_url(permit)).status_code == 404
    assert post(client, permit).status_code == 404
    assert everything() == before
    occupancy_permit_revoke(permit=permit, actor=permit.issued_by, reason=REASON, revoked_on=TODAY)
    assert client.get(notice_url(permit)).status_code == 404


def test_the_superuser_may_revoke(admin_user, permit):
    assert post(client_for(admin_user), permit).status_code == 302
    permit.refresh_from_db()
    assert permit.is_revoked


# Where a revoked permit shows


@pytest.fixture
def revoked(chief, permit):
    occupancy_permit_revoke(
        permit=permit, actor=chief, reason=REASON, revoked_on=TODAY - datetime.timedelta(days=1)
    )
    permit.refresh_from_db()
    return permit


def test_work_view_shows_revoked_with_date_reason_and_notice(viewer, revoked, application_a):
    html = client_for(viewer).get(application_a.get_absolute_url()).content.decode()
    occupancy = " ".join(section(html, "occupancy").split())
    assert '<span class="badge text-bg-danger">Revoked</span>' in occupancy
    assert f"Effective {(TODAY - datetime.timedelta(days=1)).isoformat()}" in occupancy
    assert REASON in occupancy
    assert f'href="{notice_url(revoked)}"' in occupancy
    assert f'href="{permit_url(revoked)}"' in occupancy  # the issued PDF is still there
    assert revoke_url(revoked) not in html


def test_the_chief_is_not_offered_to_revoke_a_revoked_permit(chief, revoked, application_a):
    html = client_for(chief).get(application_a.get_absolute_url()).content.decode()
    assert revoke_url(revoked) not in html


def test_all_visits_shows_revoked_with_date_reason_and_notice(viewer, revoked, occupancy):
    html = client_for(viewer).get(occupancy.get_absolute_url()).content.decode()
    visits = " ".join(section(html, "visits").split())
    assert f'href="{permit_url(revoked)}">Occupancy permit {revoked.number} (PDF)</a>' in visits
    assert '<span class="badge text-bg-danger">Revoked</span>' in visits
    assert f"Effective {(TODAY - datetime.timedelta(days=1)).isoformat()}: {REASON}" in visits
    assert (
        f'href="{notice_url(revoked)}">Notice of revocation of {revoked.number} (PDF)</a>'
        in visits
    )


def test_a_permit_in_force_shows_no_revocation(viewer, permit, application_a, occupancy):
    client = client_for(viewer)
    work_view = section(client.get(application_a.get_absolute_url()).content.decode(), "occupancy")
    visits = section(client.get(occupancy.get_absolute_url()).content.decode(), "visits")
    for html in (work_view, visits):
        assert "Revoked" not in html
        assert notice_url(permit) not in html
    assert client.get(notice_url(permit)).status_code == 404


# The notice of revocation


@pytest.mark.parametrize("persona", ["viewer", "clerk", "inspector", "chief", "admin_user"])
def test_the_notice_downloads_as_issued_for_every_reader(request, persona, revoked):
    response = client_for(request.getfixturevalue(persona)).get(notice_url(revoked))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f"{revoked.number}-notice-of-revocation.pdf" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == revoked.revocation.notice_sha256
    text = pdf_text(data)
    assert "NOTICE OF REVOCATION" in text
    assert f"Occupancy Permit No. {revoked.number} is revoked effective" in text
    assert REASON in text


def test_a_notice_changed_on_disk_is_not_served(viewer, revoked):
    notice = revoked.revocation.notice_pdf
    with notice.storage.open(notice.name, "wb") as handle:
        handle.write(b"%PDF-1.7 forged")
    response = client_for(viewer).get(notice_url(revoked))
    assert response.status_code == 500
    assert b"forged" not in response.content
    assert "no longer matches the copy recorded" in response.content.decode()


def test_anonymous_is_sent_to_log_in(client, revoked):
    for url in (revoke_url(revoked), notice_url(revoked)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# The admin's revoke page applies the same rules


def test_admin_revoke_refuses_a_date_after_today_at_the_field(admin_user, permit):
    url = reverse("admin:occupancy_occupancypermit_revoke", args=[permit.pk])
    before = everything()
    response = client_for(admin_user).post(
        url, {"reason": REASON, "revoked_on": (TODAY + datetime.timedelta(days=3)).isoformat()}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "revoked_on": ["A revocation cannot take effect after today."]
    }
    assert "A revocation cannot take effect after today." in response.content.decode()
    assert everything() == before


# Hostile input never breaks the page


@FUZZ
@given(data=form_data(["reason", "revoked_on"]))
def test_hostile_revocation_input_is_refused_or_revokes_never_a_server_error(chief, permit, data):
    client = client_for(chief)
    client.raise_request_exception = True
    before = everything()
    response = client.post(revoke_url(permit), data)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert everything() == before
    else:
        revocation = OccupancyPermitRevocation.objects.get(permit=permit)
        assert revocation.reason == data["reason"].strip()
        assert GRANTED_ON <= revocation.revoked_on <= TODAY


@pytest.mark.parametrize("document", ["permit", "report"])
def test_a_permit_or_report_changed_on_disk_is_not_served(viewer, permit, document):
    """Every stored legal document is checked against the SHA-256 recorded when it was
    written before it is handed out (core.files.stored_document_response)."""
    visit = permit.visit
    visit.refresh_from_db()
    field, url, sha256 = {
        "permit": (permit.pdf, permit_url(permit), permit.pdf_sha256),
        "report": (
            visit.report_pdf,
            reverse("inspections:visit_report", args=[visit.inspection.code, visit.sequence]),
            visit.report_sha256,
        ),
    }[document]
    client = client_for(viewer)
    served = client.get(url)
    assert served.status_code == 200
    assert hashlib.sha256(b"".join(served.streaming_content)).hexdigest() == sha256
    with field.storage.open(field.name, "wb") as handle:
        handle.write(b"%PDF-1.7 forged")
    response = client.get(url)
    assert response.status_code == 500
    assert b"forged" not in response.content
    assert "no longer matches the copy recorded" in response.content.decode()
