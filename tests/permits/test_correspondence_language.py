"""The application's language of correspondence (issue 18, item 4): shown in the Work view's
details and edited where applications are edited (the admin)."""

from django.urls import reverse

from permits.models import Application
from tests.conftest import client_for, make_application


def details_of(page: str) -> str:
    return page[page.index('id="details-heading"') : page.index("</dl>")]


def test_the_work_view_shows_the_language_of_correspondence(inspector, municipality_a):
    english = make_application(municipality_a, number="B-1")
    french = make_application(municipality_a, number="B-2", correspondence_language="fr-ca")
    client = client_for(inspector)

    assert english.correspondence_language == "en-ca"  # the default
    assert (
        '<dt class="col-sm-3">Language of correspondence</dt>'
        '<dd class="col-sm-9" lang="en-ca">English</dd>'
    ) in details_of(client.get(english.get_absolute_url()).content.decode())
    assert (
        '<dt class="col-sm-3">Language of correspondence</dt>'
        '<dd class="col-sm-9" lang="fr-ca">Français</dd>'
    ) in details_of(client.get(french.get_absolute_url()).content.decode())


def test_the_admin_edits_the_language_of_correspondence(admin_user, application_a):
    client = client_for(admin_user)
    url = reverse("admin:permits_application_change", args=[application_a.pk])
    form = client.get(url).context["adminform"].form
    assert "correspondence_language" in form.fields
    assert [value for value, _label in form.fields["correspondence_language"].choices] == [
        "en-ca",
        "fr-ca",
    ]
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}

    response = client.post(url, {**data, "correspondence_language": "fr-ca"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Application.objects.get(pk=application_a.pk).correspondence_language == "fr-ca"
