"""Adding and cancelling inspections through the pages, and what the inspection page tells a
clerk or viewer about the buttons they do not have."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Activity
from demo import builders
from inspections.models import Inspection, InspectionStatus, Visit
from tests.conftest import client_for
from tests.factories import make_closed_visit, make_inspection


def url(name, *args):
    return reverse(f"inspections:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def text_of(html: str) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def framing(application_a, framing_type_a):
    return make_inspection(application_a, framing_type_a)


def add_url(application):
    return url("inspection_add", application.municipality.slug, application.number)


# Add inspection: a second one of a type only when confirmed


def test_adding_a_type_already_open_asks_for_confirmation(
    clerk, application_a, framing_type_a, framing
):
    response = client_for(clerk).post(
        add_url(application_a), {"inspection_type": framing_type_a.pk}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="h3">Add a second Framing inspection?</h1>' in html
    assert "already has a Framing inspection that is not closed. Nothing was added yet." in (
        text_of(html)
    )
    assert framing.get_absolute_url() in html  # a link to the one already there
    # The button posts the same type again, confirmed.
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    assert form.group(1) == add_url(application_a)
    assert f'name="inspection_type" value="{framing_type_a.pk}"' in form.group(2)
    assert 'name="confirm_duplicate" value="1"' in form.group(2)
    assert "Add a second Framing inspection</button>" in form.group(2)
    assert list(Inspection.objects.all()) == [framing]
    assert not Activity.objects.exists()


def test_confirmed_second_inspection_is_added(clerk, application_a, framing_type_a, framing):
    response = client_for(clerk).post(
        add_url(application_a),
        {"inspection_type": framing_type_a.pk, "confirm_duplicate": "1"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == application_a.get_absolute_url() + "#inspections"
    assert messages_of(response) == ["Framing inspection added."]
    assert Inspection.objects.filter(inspection_type=framing_type_a).count() == 2


def test_adding_a_type_whose_inspection_is_closed_needs_no_confirmation(
    clerk, application_a, framing_type_a, framing
):
    Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.CLOSED)
    response = client_for(clerk).post(
        add_url(application_a), {"inspection_type": framing_type_a.pk}
    )
    assert response.status_code == 302
    assert Inspection.objects.filter(inspection_type=framing_type_a).count() == 2


# Add inspection: assigned to the inspector who adds it


def test_inspection_added_by_an_inspector_is_assigned_to_them(
    inspector, application_a, framing_type_a
):
    client = client_for(inspector)
    response = client.post(
        add_url(application_a), {"inspection_type": framing_type_a.pk}, follow=True
    )
    assert messages_of(response) == ["Framing inspection added. It is assigned to you."]
    assert Inspection.objects.get().assigned_inspector == inspector
    row = re.search(
        r"<tr>\s*<th scope=\"row\"[^>]*>Framing</th>.*?</tr>", response.content.decode(), re.S
    )
    assert "Inspector" in text_of(row.group(0))


def test_inspection_added_by_a_clerk_is_not_assigned(clerk, application_a, framing_type_a):
    response = client_for(clerk).post(
        add_url(application_a), {"inspection_type": framing_type_a.pk}, follow=True
    )
    assert messages_of(response) == ["Framing inspection added."]
    assert Inspection.objects.get().assigned_inspector is None


# Cancel an inspection never visited


def cancel(client, inspection, reason="Added twice by mistake", **kwargs):
    return client.post(url("inspection_cancel", inspection.code), {"reason": reason}, **kwargs)


def test_inspector_sees_the_cancel_form_on_a_never_visited_inspection(inspector, framing):
    html = client_for(inspector).get(framing.get_absolute_url()).content.decode()
    assert 'id="cancel-heading">Cancel this inspection</h2>' in html
    assert f'action="{url("inspection_cancel", framing.code)}"' in html
    assert 'for="cancel_reason"' in html
    assert '<textarea name="reason"' in html


@pytest.mark.parametrize("persona", ["clerk", "viewer"])
def test_clerk_and_viewer_are_not_offered_cancel(request, persona, framing):
    user = request.getfixturevalue(persona)
    html = client_for(user).get(framing.get_absolute_url()).content.decode()
    assert "Cancel this inspection" not in html


def test_a_visited_inspection_offers_no_cancel(inspector, framing):
    make_closed_visit(framing, inspector, result="failed")
    html = client_for(inspector).get(framing.get_absolute_url()).content.decode()
    assert "Cancel this inspection" not in html


def test_inspector_cancels_an_inspection_which_stays_struck_through(
    inspector, application_a, framing
):
    response = cancel(client_for(inspector), framing, follow=True)
    assert response.redirect_chain[-1][0] == application_a.get_absolute_url() + "#inspections"
    assert messages_of(response) == ["Framing inspection cancelled."]
    framing.refresh_from_db()
    assert (framing.status, framing.cancelled_reason, framing.cancelled_by) == (
        InspectionStatus.CANCELLED,
        "Added twice by mistake",
        inspector,
    )
    assert list(Activity.objects.values_list("verb", "summary")) == [
        ("inspection_cancelled", "Framing inspection cancelled: Added twice by mistake")
    ]
    html = response.content.decode()
    row = re.search(r'<tr class="inspection-cancelled">.*?</tr>', html, re.S).group(0)
    assert "<del>Framing</del>" in row
    assert '<span class="visually-hidden"> (cancelled)</span>' in row
    cancelled_on = timezone.localdate(framing.cancelled_at).isoformat()
    assert f"Cancelled {cancelled_on} by Inspector Reason: Added twice by mistake" in (text_of(row))
    assert 'aria-label="Open cancelled Framing inspection"' in row

    page = client_for(inspector).get(framing.get_absolute_url()).content.decode()
    assert "Reason Added twice by mistake" in text_of(page)
    assert "Cancel this inspection" not in page
    assert "Start new visit" not in page


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_without_a_reason_is_refused_at_the_field(inspector, framing, reason):
    response = cancel(client_for(inspector), framing, reason=reason)
    assert response.status_code == 400
    html = response.content.decode()
    assert '<a href="#cancel">Cancel this inspection</a>' in html  # in the error summary
    assert "Give the reason for cancelling this inspection." in html
    assert 'aria-invalid="true" aria-describedby="cancel_reason_helptext cancel_reason_error"' in (
        html
    )
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.NOT_STARTED
    assert not Activity.objects.exists()


def test_cancel_of_an_inspection_visited_meanwhile_is_refused_with_a_message(inspector, framing):
    Visit.objects.create(inspection=framing, sequence=1, started_by=inspector)
    response = cancel(client_for(inspector), framing, follow=True)
    assert response.redirect_chain[-1][0] == framing.get_absolute_url()
    assert messages_of(response) == [
        "A visit was started on this inspection, so it cannot be cancelled: only an "
        "inspection never visited can be."
    ]
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.NOT_STARTED


def test_second_cancel_is_refused_with_who_cancelled(inspector, framing):
    client = client_for(inspector)
    cancel(client, framing, follow=True)
    response = cancel(client, framing, reason="Again", follow=True)
    assert messages_of(response)[0].startswith(
        "This inspection was already cancelled by Inspector on "
    )
    framing.refresh_from_db()
    assert framing.cancelled_reason == "Added twice by mistake"


def test_closed_inspection_cannot_be_cancelled(inspector, framing):
    make_closed_visit(framing, inspector, result="passed")
    Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.CLOSED)
    response = cancel(client_for(inspector), framing, follow=True)
    assert messages_of(response) == [
        "This inspection is closed: a closed inspection cannot be cancelled."
    ]


@pytest.mark.parametrize("persona", ["clerk", "viewer"])
def test_clerk_and_viewer_cannot_cancel(request, persona, framing):
    response = cancel(client_for(request.getfixturevalue(persona)), framing)
    assert response.status_code == 403
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.NOT_STARTED


def test_inspector_of_another_municipality_cannot_cancel(inspector_b, framing):
    assert cancel(client_for(inspector_b), framing).status_code == 404
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.NOT_STARTED


def test_cancel_is_a_post(inspector, framing):
    assert client_for(inspector).get(url("inspection_cancel", framing.code)).status_code == 405


# Why a clerk or viewer sees no inspector's buttons

NOTE = (
    "You are signed in as {role} of Town of Alpha: starting and recording visits is for inspectors."
)


@pytest.mark.parametrize("persona, role", [("clerk", "Clerk"), ("viewer", "Viewer")])
def test_clerk_and_viewer_are_told_why_the_inspectors_buttons_are_missing(
    request, persona, role, framing, inspector
):
    Visit.objects.create(inspection=framing, sequence=1, started_by=inspector)
    user = request.getfixturevalue(persona)
    html = client_for(user).get(framing.get_absolute_url()).content.decode()
    assert (
        f'<p class="alert alert-info" role="note" id="role-note">{NOTE.format(role=role)}</p>'
        in (html)
    )
    assert "Start new visit" not in html


@pytest.mark.parametrize("persona", ["inspector", "admin_user"])
def test_inspector_and_administrator_get_no_note(request, persona, framing):
    html = client_for(request.getfixturevalue(persona)).get(framing.get_absolute_url())
    assert 'id="role-note"' not in html.content.decode()
    assert "Start new visit" in html.content.decode()


def test_no_note_on_a_closed_inspection(clerk, inspector, framing):
    make_closed_visit(framing, inspector, result="passed")
    Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.CLOSED)
    html = client_for(clerk).get(framing.get_absolute_url()).content.decode()
    assert 'id="role-note"' not in html


# The inspection report of a visit


def test_only_a_closed_visit_has_a_report_to_download(inspector, framing):
    """An open visit (sequence 2) and a visit that does not exist (3) answer the site's 404
    page; a closed visit whose report a job is still rendering (1) sends the inspector back
    to All visits with a note, not to a 404."""
    client = client_for(inspector)
    make_closed_visit(framing, inspector, sequence=1)
    builders.visit(inspection=framing, inspector=inspector, sequence=2)
    for sequence in (2, 3):
        response = client.get(url("visit_report", framing.code, sequence))
        assert response.status_code == 404
        assert "Back to the applications" in response.content.decode()
    pending = client.get(url("visit_report", framing.code, 1), follow=True)
    assert pending.redirect_chain == [(framing.get_absolute_url() + "#visits", 302)]
    assert messages_of(pending) == [
        "The inspection report of visit 1 is being prepared. Refresh the page in a moment to "
        "download it."
    ]
