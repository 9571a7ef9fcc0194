"""Which language a page is in: the browser's, the header's switch, the user's own choice
(core.language), and that English stays what it was."""

import pytest
from django.conf import settings
from django.test import Client

from core.models import Profile
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def work_view(application_a) -> str:
    return application_a.get_absolute_url()


def test_english_by_default(inspector, work_view):
    html = client_for(inspector).get(work_view).content.decode()
    assert '<html lang="en-ca">' in html
    assert ">Applications</a>" in html and ">Log out</button>" in html
    # The switch offers the other language, named in that language.
    assert 'lang="fr-ca"' in html and ">Français</button>" in html


def test_the_browsers_language_is_followed(inspector, work_view):
    client = client_for(inspector)
    for accept in ("fr-CA,fr;q=0.9,en;q=0.5", "fr", "fr-FR"):
        response = client.get(work_view, headers={"accept-language": accept})
        html = response.content.decode()
        assert '<html lang="fr-ca">' in html, accept
        assert ">Demandes</a>" in html and ">Se déconnecter</button>" in html
        assert response["Content-Language"] == "fr-ca"
        assert "Accept-Language" in response["Vary"]
    english = client.get(work_view, headers={"accept-language": "de-DE,en;q=0.5"})
    assert ">Applications</a>" in english.content.decode()


def test_switch_before_signing_in_sets_the_cookie_and_returns_to_the_page():
    client = Client()
    response = client.post(
        "/accounts/language", {"language": "fr-ca", "next": "/accounts/login/?next=/today/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/today/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr-ca"
    login = client.get("/accounts/login/").content.decode()
    assert '<html lang="fr-ca">' in login
    assert ">English</button>" in login


def test_switch_never_sends_to_another_site():
    response = Client().post(
        "/accounts/language", {"language": "fr-ca", "next": "https://evil.example/phish"}
    )
    assert response["Location"] == "/accounts/login/"


def test_switch_refuses_a_language_we_do_not_speak(inspector, work_view):
    client = client_for(inspector)
    response = client.post("/accounts/language", {"language": "de", "next": work_view})
    assert response.status_code == 302
    # An unknown code changes nothing: no profile written, no cookie.
    assert not Profile.objects.filter(user=inspector).exists()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_a_signed_in_choice_leaves_no_cookie_for_the_next_person(inspector, work_view):
    client = client_for(inspector)
    response = client.post(
        "/accounts/language", {"language": "fr-ca", "next": work_view + "?lang=en-ca&page=2"}
    )
    # Back to the page, without the public pages' one-off ?lang= that would undo the choice.
    assert response["Location"] == work_view + "?page=2"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert ">Demandes</a>" in client.get(work_view).content.decode()
    client.post("/accounts/logout/")
    assert '<html lang="en-ca">' in client.get("/accounts/login/").content.decode()


def test_switch_needs_post(inspector):
    assert client_for(inspector).get("/accounts/language").status_code == 405


def test_a_users_choice_wins_over_the_browser_and_survives_the_next_login(inspector, work_view):
    client = client_for(inspector)
    client.post("/accounts/language", {"language": "fr-ca", "next": work_view})
    assert Profile.objects.get(user=inspector).language == "fr-ca"
    english_browser = {"accept-language": "en-CA,en;q=0.9"}
    # Another device: no cookie, an English browser; the choice comes with the login.
    other = Client()
    login = other.post(
        "/accounts/login/", {"username": "inspector", "password": PASSWORD}, headers=english_browser
    )
    assert login.status_code == 302
    html = other.get(work_view, headers=english_browser).content.decode()
    assert ">Demandes</a>" in html


def test_preferences_page_sets_and_clears_the_choice(inspector):
    client = client_for(inspector)
    page = client.get("/accounts/preferences/")
    assert page.status_code == 200
    assert "The language of my browser" in page.content.decode()
    response = client.post("/accounts/preferences/", {"language": "fr-ca"}, follow=True)
    assert Profile.objects.get(user=inspector).language == "fr-ca"
    assert "Vos préférences sont enregistrées." in response.content.decode()
    response = client.post("/accounts/preferences/", {"language": ""}, follow=True)
    assert Profile.objects.get(user=inspector).language == ""
    html = response.content.decode()
    assert '<html lang="en-ca">' in html and "Your preferences are saved." in html


def test_preferences_refuses_an_unknown_language_at_the_field(inspector):
    client = client_for(inspector)
    client.post("/accounts/preferences/", {"language": "fr-ca"})
    response = client.post("/accounts/preferences/", {"language": "xx"})
    assert response.status_code == 200
    assert (
        "Select a valid choice" in response.content.decode()
        or "Sélectionnez un choix valide" in (response.content.decode())
    )
    assert Profile.objects.get(user=inspector).language == "fr-ca"


def test_preferences_needs_a_signed_in_user():
    response = Client().get("/accounts/preferences/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_public_pages_switch_by_a_link_that_keeps_nothing():
    """The verification pages are public and cacheable: their switch is a link to the same
    address with ?lang=, with no CSRF token in the page, and nothing is remembered."""
    client = Client()
    english = client.get("/v/no-such-token")
    assert english.status_code == 404
    html = english.content.decode()
    assert 'href="?lang=fr-ca"' in html and "csrfmiddlewaretoken" not in html
    french = client.get("/v/no-such-token?lang=fr-ca")
    assert french.status_code == 404
    assert '<html lang="fr-ca">' in french.content.decode()
    assert 'href="?lang=en-ca"' in french.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in french.cookies
    # The next page, without ?lang=, is in the browser's language again.
    assert '<html lang="en-ca">' in client.get("/v/no-such-token").content.decode()


def test_error_pages_speak_the_users_language(inspector):
    client = client_for(inspector)
    french = client.get("/no-such-page/", headers={"accept-language": "fr-CA"})
    assert french.status_code == 404
    assert "Page introuvable" in french.content.decode()
    english = client.get("/no-such-page/")
    assert english.status_code == 404 and "Page not found" in english.content.decode()
