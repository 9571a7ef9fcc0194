"""Issue 18's acceptance: with the browser set to French, the seed's fourteen steps run in
French end to end and issue a French permit. Every page is checked by axe (in French) at
desktop and phone widths, like the English workflow (test_occupancy_workflow.py), which
stays as it is for the English user.

The seed's labels are written here in their fixed French (docs/french.md); other messages
are read from the catalogue, so the test follows the translation rather than repeating it."""

import io
import re

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect
from pypdf import PdfReader

from inspections.models import Inspection, InspectionStatus, Visit, VisitStatus
from occupancy.models import OccupancyPermit, OccupancyPermitType
from tests.browser.conftest import DESKTOP, jpeg_file, log_in_with_cookie, open_add_form
from tests.conftest import PASSWORD, make_application
from tests.occupancy.conftest import make_template, pdf_text

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
DEFICIENCY = "Garde-corps manquant à l'escalier de la terrasse arrière"
REMARK = "Avertisseurs de fumée vérifiés et fonctionnels à chaque étage"
ORDER_TO = "Jordan Smith, propriétaire, 905-555-0101"
ORDER_TEXT = "Installer un garde-corps à l'escalier de la terrasse arrière d'ici 30 jours."
PERMIT_TEXT = "Maison individuelle de deux étages avec garage attenant."


def fr(english: str, context: str = "", **values) -> str:
    """The French the catalogue gives `english` (with its placeholders filled)."""
    with translation.override("fr-ca"):
        text = translation.pgettext(context, english) if context else translation.gettext(english)
    assert text != english or english in ("Photos", "Inspections", "Description"), english
    return text % values if values else text


@pytest.fixture
def context_fr(browser, live_server, role_groups):
    """A browser set to Canadian French: it asks for fr-CA before anything else."""
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_server.url, locale="fr-CA", reduced_motion="reduce"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page_fr(context_fr):
    return context_fr.new_page()


@pytest.fixture
def pages_fr(page_fr, artifacts, request):
    from tests.browser.conftest import Pages

    return Pages(page_fr, artifacts, "fr-" + re.sub(r"^test_", "", request.node.name))


@pytest.fixture
def french_template(municipality_a):
    """A French general occupancy permit type with the shipped French default template."""
    permit_type = OccupancyPermitType.objects.create(
        municipality=municipality_a, name="Général (français)", language="fr-ca"
    )
    return make_template(
        municipality_a, permit_type, "Permis d'occupation général", "general_fr.html"
    )


def open_pdf(page, link) -> bytes:
    href = link.get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return response.body()


def test_the_seeds_fourteen_steps_in_french_issue_a_french_permit(
    page_fr,
    pages_fr,
    live_server,
    inspector,
    application_a,
    occupancy_type_a,
    french_template,
    tmp_path,
    artifacts,
):
    page, pages = page_fr, pages_fr
    make_application(
        application_a.municipality, number="B-2026-0002", street_address="9 Birch Lane"
    )
    number = f"OCC-{TODAY.year}-0001"

    # 1. Se connecter: the login page is in French before anyone signs in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "fr-ca")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    pages.check("login")
    # Django's own French for its login form.
    page.get_by_label("Nom d’utilisateur").fill("inspector")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Ma journée")).to_be_visible()
    pages.check("my-today")

    # 2. Find the application (Demandes) and open its Vue de travail.
    page.get_by_role("navigation", name=fr("Main", "navigation")).get_by_role(
        "link", name="Demandes"
    ).click()
    expect(page.get_by_role("heading", name="Demandes")).to_be_visible()
    page.get_by_label(fr("Search applications")).fill("maple")
    page.get_by_role("button", name=fr("Search")).click()
    results = page.get_by_role("list", name=fr("Search results")).get_by_role("listitem")
    expect(results).to_have_count(1)
    pages.check("list-search")
    page.get_by_role("link", name=re.compile(r"B-2026-0001 · 47 Maple Crescent")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("B-2026-0001")
    expect(page.get_by_role("heading", name="Inspections")).to_be_visible()
    pages.check("work-view")

    # 3–4. No Occupancy inspection yet: Ajouter une inspection.
    page.get_by_label(fr("Inspection type")).select_option(label="Occupancy")
    page.get_by_role("button", name="Ajouter une inspection").click()
    expect(page.locator("#messages")).to_contain_text(
        fr("%(type)s inspection added. It is assigned to you.", type="Occupancy")
    )
    pages.check("inspection-added")

    # 5. Ouvrir; 6. Démarrer une nouvelle visite.
    page.locator("#inspections").get_by_role("link", name=re.compile(r"^Ouvrir")).click()
    pages.check("inspection-no-visit")
    page.get_by_role("button", name="Démarrer une nouvelle visite").click()
    expect(page.locator("#messages .toast").first).to_be_visible()
    pages.check("inspection-open-visit")

    # 7. Défauts et remarques, Ordres, Photos.
    expect(page.get_by_role("heading", name="Défauts et remarques")).to_be_visible()
    open_add_form(page, fr("Add new deficiency/remark"))
    page.locator("#finding_description").fill(DEFICIENCY)
    page.locator("#findings").get_by_role("button", name=fr("Add and Close")).click()
    expect(page.locator("#messages")).to_contain_text(fr("Deficiency added."))

    open_add_form(page, fr("Add new deficiency/remark"))
    page.locator("#finding_description").fill(REMARK)
    page.get_by_label("Ceci est une remarque seulement").check()
    page.locator("#findings").get_by_role("button", name=fr("Add and Close")).click()
    expect(page.locator("#messages")).to_contain_text(fr("Remark added."))

    expect(page.get_by_role("heading", name="Ordres")).to_be_visible()
    open_add_form(page, fr("Add new order"))
    page.get_by_label(fr("Order type")).select_option(label="Ordre de se conformer")
    page.get_by_label(fr("Issued to")).fill(ORDER_TO)
    page.locator("#order_description").fill(ORDER_TEXT)
    page.locator("#orders").get_by_label(re.compile(r"Garde-corps manquant")).check()
    pages.check("order-form-open")
    page.locator("#orders").get_by_role("button", name=fr("Add and Close")).click()
    expect(page.locator("#messages .toast").first).to_contain_text("Ordre de se conformer")

    open_add_form(page, fr("Add photos"))
    page.locator("#photo_photos").set_input_files(jpeg_file(tmp_path, "terrasse.jpg"))
    page.locator("#photo_description").fill("Escalier de la terrasse sans garde-corps")
    page.locator("#photos").get_by_role("button", name=fr("Upload")).click()
    with translation.override("fr-ca"):
        added = translation.ngettext("%(count)d photo added.", "%(count)d photos added.", 1)
    expect(page.locator("#messages")).to_contain_text(added % {"count": 1})
    pages.check("visit-with-findings")

    # 8–12. Résultat de l'inspection et de la visite: the result and the French permit.
    result = page.locator("#result")
    expect(
        result.get_by_role("heading", name="Résultat de l'inspection et de la visite")
    ).to_be_visible()
    result.get_by_label("Accordé, mais avec des points en suspens").check()
    result.get_by_label("Modèle PDF du permis d'occupation").select_option(
        label="Permis d'occupation général"
    )
    expect(result.get_by_label("Date d'octroi de l'occupation")).to_have_value(TODAY.isoformat())
    result.get_by_label("Description du permis d'occupation").fill(PERMIT_TEXT)
    pages.check("result-filled")

    # 13. Terminer et clore l'inspection; 14. confirm.
    result.get_by_role("button", name="Terminer et clore l'inspection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Finish and Close Inspection?"))
    expect(page.locator("main")).to_contain_text(DEFICIENCY)
    pages.check("confirm")
    assert not OccupancyPermit.objects.exists()
    page.get_by_role("button", name=fr("Yes, close the inspection")).click()
    toast = page.locator("#messages .toast").first
    expect(toast).to_have_text(
        fr("Inspection closed. Occupancy permit %(number)s issued.", number=number)
    )
    pages.check("inspection-closed")

    # The permit, in Toutes les visites and in the Vue de travail, is French.
    visits = page.locator("#visits")
    expect(page.get_by_role("heading", name="Toutes les visites")).to_be_visible()
    expect(visits).to_contain_text("Accordé, mais avec des points en suspens")
    link = visits.get_by_role("link", name=fr("Occupancy permit %(number)s (PDF)", number=number))
    pdf = open_pdf(page, link)
    (artifacts / "fr-permit.pdf").write_bytes(pdf)  # to look at, like the screenshots
    permit = OccupancyPermit.objects.get()
    assert permit.language == "fr-ca"
    assert pdf == permit.pdf.open("rb").read()
    text = pdf_text(pdf).replace("\u2019", "'")
    for expected in [number, "47 Maple Crescent", PERMIT_TEXT, DEFICIENCY, "Permis d'occupation"]:
        assert expected.lower() in text.lower(), (expected, text)
    assert PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == "fr-CA"

    visit = Visit.objects.get()
    assert (visit.status, visit.result) == (VisitStatus.CLOSED, "granted_outstanding")
    assert Inspection.objects.get().status == InspectionStatus.CLOSED


def test_french_pages_beyond_the_workflow_pass_axe(
    context_fr,
    page_fr,
    pages_fr,
    live_server,
    clerk,
    town_admin,
    application_a,
    french_template,
):
    """The pages the workflow does not reach, in French: Dispatch, Preferences, the second
    factor's page, an empty search, the admin's permit type, each checked by axe."""
    page, pages = page_fr, pages_fr
    application_a.correspondence_language = "fr-ca"
    application_a.save(update_fields=["correspondence_language"])

    log_in_with_cookie(context_fr, live_server, clerk)
    page.goto("/dispatch/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Répartition")
    pages.check("dispatch")
    page.goto(application_a.get_absolute_url())
    expect(page.locator("main")).to_contain_text("Langue de correspondance")
    expect(page.locator("main")).to_contain_text("Français")
    pages.check("work-view-french-application")
    page.goto("/?q=aucune+telle+rue")
    pages.check("list-no-match")
    page.goto("/accounts/preferences/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Préférences")
    pages.check("preferences")
    page.get_by_label("Français").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#messages")).to_contain_text("Vos préférences sont enregistrées.")
    page.goto("/accounts/two-factor/")
    pages.check("two-factor")

    context_fr.clear_cookies()
    log_in_with_cookie(context_fr, live_server, town_admin)
    page.goto(f"/admin/occupancy/occupancypermittype/{french_template.permit_type.pk}/change/")
    expect(page.locator("html")).to_have_attribute("lang", "fr-ca")
    pages.check("admin-permit-type")
