"""French (issue 18) in the occupancy app: the applicant's e-mail of a close is written in the
application's language of correspondence, whatever the inspector's; the public verification
page speaks the visitor's language (Accept-Language) and, being cacheable by anyone, says it
varies on it. English stays as it was."""

import html
import re

from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from inspections.models import VisitResult
from tests.conftest import client_for
from tests.occupancy.test_crash_files import close, new_visit
from tests.occupancy.test_verification import issue, page_url

YEAR = timezone.localdate().year
TODAY = timezone.localdate()


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_mail_of_a_french_application_is_in_french(
    french, inspector, application_a, occupancy_type_a, general_template
):
    application_a.correspondence_language = "fr-ca"
    application_a.save(update_fields=["correspondence_language"])

    close(new_visit(application_a, occupancy_type_a, inspector), inspector, general_template)

    [message] = mail.outbox
    assert message.subject == f"Permis d'occupation OCC-{YEAR}-0001 – 47 Maple Crescent, Alpha"
    with translation.override("fr-ca"):
        result = str(VisitResult.GRANTED_FULL.label)
    municipality = application_a.municipality
    assert message.body == (
        f"Inspection « Occupancy » de la demande {application_a.number}, visite 1 : {result}.\n\n"
        "Les documents sont joints.\n\n"
        f"{municipality.name}, {municipality.department_name}"
    )


def test_the_mail_of_an_english_application_stays_english_whatever_the_inspectors_language(
    french, inspector, application_a, occupancy_type_a, general_template
):
    # The inspector works in French; the applicant corresponds in English.
    with translation.override("fr-ca"):
        close(new_visit(application_a, occupancy_type_a, inspector), inspector, general_template)

    [message] = mail.outbox
    assert message.subject == f"Occupancy permit OCC-{YEAR}-0001 for 47 Maple Crescent, Alpha"
    municipality = application_a.municipality
    assert message.body == (
        f"Occupancy inspection of application {application_a.number}, visit 1: "
        "Granted and fully completed.\n\n"
        "The documents are attached.\n\n"
        f"{municipality.name}, {municipality.department_name}"
    )


def test_the_verification_page_follows_the_visitors_language(
    french, inspector, open_visit, general_template
):
    permit = issue(open_visit, inspector, general_template)
    client = client_for(None)

    response = client.get(page_url(permit), headers={"accept-language": "fr-CA,fr;q=0.9"})

    assert response.status_code == 200
    assert response["Content-Language"] == "fr-ca"
    text = text_of(response)
    assert f"Permis d'occupation {permit.number}" in text
    assert "Valide" in text
    assert "Le permis tel que délivré" in text
    assert "Vérifier un fichier PDF" in text
    # Dates as French writes them: 7 décembre 2026.
    with translation.override("fr-ca"):
        granted_on = date_format(TODAY, "j F Y")
    assert f"Octroi de l'occupation {granted_on}" in text
    assert "Occupancy permit" not in text and "The permit as issued" not in text
    # The script's sentences, in the page's language.
    assert 'data-text-checking="Vérification de {file}…"' in response.content.decode()
    # Anyone's cache may keep it a minute: one copy per language.
    assert "Accept-Language" in response["Vary"]
    assert "public" in response["Cache-Control"]

    english = client.get(page_url(permit), headers={"accept-language": "en-CA,en;q=0.9"})
    assert english["Content-Language"] == "en-ca"
    english_text = text_of(english)
    assert f"Occupancy permit {permit.number}" in english_text
    assert f"Occupancy granted {TODAY:%B} {TODAY.day}, {TODAY.year}" in english_text
    assert "Valid" in english_text and "Valide" not in english_text
    # The language is part of the issued record, named in the visitor's language.
    assert "Language of the permit English" in english_text
    assert "Langue du permis Anglais" in text
    assert "Accept-Language" in english["Vary"]


def test_the_not_found_page_follows_the_visitors_language(french, db):
    address = reverse("occupancy:verify", args=["x" * 43])

    response = client_for(None).get(address, headers={"accept-language": "fr-CA"})

    assert response.status_code == 404
    assert "Aucun permis à cette adresse" in text_of(response)
    english = client_for(None).get(address, headers={"accept-language": "en-CA"})
    assert "No permit at this address" in text_of(english)
