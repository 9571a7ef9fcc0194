"""Issue 18, deliverable 3: each permit type issues in English, in French or bilingual. The
language is part of the issued record (OccupancyPermit.language and the snapshot), the PDF
is written, dated, titled and tagged (/Lang) in it whatever the language of the request that
issues it, and the shipped French and bilingual templates pass the editor's validation."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from pypdf import PdfReader

from demo import builders
from inspections.models import VisitResult
from occupancy.admin_forms import validate_template_stylesheet
from occupancy.checklists import permit_type_seed_checklist
from occupancy.defaults import (
    default_filename,
    default_template,
    default_template_of_kind,
    shipped_filenames,
)
from occupancy.documents import render_permit_html, template_context
from occupancy.models import (
    ConditionMark,
    OccupancyCondition,
    OccupancyPermitType,
    PermitKind,
    PermitLanguage,
)
from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from occupancy.snapshot import PermitSnapshot
from occupancy.template_validation import validate_template_body
from tests.conftest import client_for
from tests.factories import make_finding
from tests.occupancy.conftest import pdf_text

TODAY = timezone.localdate()


def in_french(value: datetime.date) -> str:
    with translation.override("fr-ca"):
        return date_format(value, "j F Y")  # 7 décembre 2026


def in_english(value: datetime.date) -> str:
    with translation.override("en-ca"):
        return date_format(value, "F j, Y")  # December 7, 2026


def template_in(municipality, language: str, kind=PermitKind.GENERAL):
    """A permit type of `language` and `kind` with the shipped default template of both."""
    permit_type = builders.permit_type(
        municipality=municipality,
        name=f"{kind} {language}",
        kind=kind,
        language=language,
        needs_portion_of_building=kind == PermitKind.PARTIAL,
    )
    permit_type_seed_checklist(permit_type=permit_type)
    return builders.permit_template(
        permit_type=permit_type, filename=default_filename(kind, language)
    )


def issue(*, visit, inspector, template, request_language="en-ca"):
    """Grant on `visit` with `template` (a deficiency outstanding), the request in
    `request_language`."""
    make_finding(visit, inspector, description="Exterior stairs need a second handrail")
    permit_type = template.permit_type
    conditions = OccupancyCondition.objects.filter(permit_type=permit_type)
    with translation.override(request_language):
        return visit_finish_and_close(
            visit=visit,
            actor=inspector,
            result=VisitResult.GRANTED_OUTSTANDING,
            grant=GrantDetails(
                template=template,
                granted_on=TODAY,
                description="Maison individuelle de deux étages.",
                portion_of_building="Rez-de-chaussée"
                if permit_type.needs_portion_of_building
                else "",
                conditions={c.pk: ConditionMark.MET for c in conditions},
            ),
        ).permit


def pdf_of(permit):
    """The PDF's reader and its text, case folded (labels print in capitals)."""
    data = permit.pdf.read()
    return PdfReader(io.BytesIO(data)), pdf_text(data).casefold()


def test_a_french_type_issues_a_french_permit_whatever_the_request_language(
    inspector, open_visit, municipality_a
):
    template = template_in(municipality_a, PermitLanguage.FRENCH)
    permit = issue(visit=open_visit, inspector=inspector, template=template)

    assert permit.language == "fr-ca"
    assert permit.snapshot["permit"]["language"] == "fr-ca"
    reader, text = pdf_of(permit)
    assert str(reader.trailer["/Root"]["/Lang"]) == "fr-CA"
    assert reader.metadata.title == f"Permis d'occupation {permit.number}"
    for french in [
        "Permis d'occupation",
        "Loi de 1992 sur le code du bâtiment",
        "Date d'octroi de l'occupation",
        in_french(TODAY),
        "Points en suspens",
        "Exterior stairs need a second handrail",  # what the inspector typed, as typed
        "Chef du service du bâtiment",
        "Conditions vérifiées",
    ]:
        assert french.casefold() in text, french
    for english in ["Occupancy Permit", "Outstanding matters", in_english(TODAY)]:
        assert english.casefold() not in text, english


@pytest.mark.parametrize("kind", [PermitKind.PARTIAL, PermitKind.TEMPORARY])
def test_french_partial_and_temporary_permits(inspector, open_visit, municipality_a, kind):
    template = template_in(municipality_a, PermitLanguage.FRENCH, kind=kind)
    if kind == PermitKind.TEMPORARY:
        OccupancyPermitType.objects.filter(pk=template.permit_type_id).update(
            needs_expiry_date=True
        )
    permit = issue(visit=open_visit, inspector=inspector, template=template)
    _, text = pdf_of(permit)
    title = {
        PermitKind.PARTIAL: "Permis d'occupation partielle",
        PermitKind.TEMPORARY: "Permis d'occupation temporaire",
    }[kind]
    assert title.casefold() in text
    assert permit.language == "fr-ca"


def test_a_bilingual_type_prints_both_texts_on_one_document(inspector, open_visit, municipality_a):
    template = template_in(municipality_a, PermitLanguage.BILINGUAL)
    permit = issue(
        visit=open_visit, inspector=inspector, template=template, request_language="fr-ca"
    )

    assert permit.language == "bilingual"
    reader, text = pdf_of(permit)
    assert str(reader.trailer["/Root"]["/Lang"]) == "en-CA"  # English first
    assert len(reader.pages) <= 2
    for both in [
        ("Occupancy Permit", "Permis d'occupation"),
        ("Building Code Act, 1992", "Loi de 1992 sur le code du bâtiment"),
        ("Occupancy granted", "Date d'octroi de l'occupation"),
        (in_english(TODAY), in_french(TODAY)),
        ("Outstanding matters", "Points en suspens"),
        ("To be completed by", "À régler par"),
        ("Keep this permit with the property records.", "Conservez ce permis avec les"),
    ]:
        for text_in_one_language in both:
            assert text_in_one_language.casefold() in text, text_in_one_language
    # The French parts say they are French, for a screen reader.
    html = render_permit_html(template.body, template_context(permit.snapshot))
    assert '<span lang="fr-CA">Permis d\'occupation</span>' in html
    assert html.startswith('<!DOCTYPE html>\n<html lang="en-CA">')


def test_an_english_type_issues_as_before_even_for_a_french_request(
    inspector, open_visit, general_template
):
    assert general_template.permit_type.language == "en-ca"  # the default
    permit = issue(
        visit=open_visit, inspector=inspector, template=general_template, request_language="fr-ca"
    )

    assert permit.language == "en-ca"
    snapshot = permit.snapshot
    assert snapshot["permit"]["result_label"] == "Granted, but outstanding matters"
    assert snapshot["outstanding_matters"][0]["responsible"] == "The owner"
    reader, text = pdf_of(permit)
    assert str(reader.trailer["/Root"]["/Lang"]) == "en-CA"
    assert reader.metadata.title == f"Occupancy Permit {permit.number}"
    assert "occupancy permit" in text and in_english(TODAY).casefold() in text
    assert "permis d'occupation" not in text and in_french(TODAY) not in text


def test_the_language_is_the_types_at_issue_and_stays_with_the_permit(
    inspector, open_visit, municipality_a
):
    template = template_in(municipality_a, PermitLanguage.FRENCH)
    permit = issue(visit=open_visit, inspector=inspector, template=template)
    OccupancyPermitType.objects.filter(pk=template.permit_type_id).update(
        language=PermitLanguage.ENGLISH
    )
    permit.refresh_from_db()
    assert permit.language == "fr-ca"
    assert PermitSnapshot.from_json(permit.snapshot).permit.language == "fr-ca"


def test_every_kind_ships_in_every_language():
    assert shipped_filenames() == [
        "general.html",
        "general_fr.html",
        "general_bilingual.html",
        "partial.html",
        "partial_fr.html",
        "partial_bilingual.html",
        "temporary.html",
        "temporary_fr.html",
        "temporary_bilingual.html",
    ]
    assert "Permis d'occupation partielle" in default_template_of_kind("partial", "fr-ca").body
    assert default_template_of_kind("general", "en-ca") == default_template("general.html")
    # The French ones add their footer to the shared stylesheet; the English one is as before.
    english = default_template("general.html").stylesheet
    assert default_template("general_fr.html").stylesheet.startswith(english)
    assert '" de " counter(pages)' in default_template("general_fr.html").stylesheet


@pytest.mark.parametrize("filename", shipped_filenames())
def test_the_shipped_templates_pass_the_editors_validation(filename, municipality_a):
    """What the admin applies to a template it saves, with sample data of a type of the
    template's own kind and language."""
    kind, _, language = filename.removesuffix(".html").partition("_")
    permit_type = OccupancyPermitType(
        municipality=municipality_a,
        name="Type",
        kind=kind,
        language={"": "en-ca", "fr": "fr-ca", "bilingual": "bilingual"}[language],
        needs_portion_of_building=kind != PermitKind.GENERAL,
        needs_expiry_date=kind == PermitKind.TEMPORARY,
    )
    template = default_template(filename)
    validate_template_body(template.body, permit_type=permit_type)
    validate_template_stylesheet(template.stylesheet)


def test_the_admin_sets_a_types_language_and_starts_its_templates_in_it(admin_user, municipality_a):
    client = client_for(admin_user)
    page = client.get(reverse("admin:occupancy_occupancypermittype_add"))
    assert '<select name="language"' in page.content.decode()
    french = builders.permit_type(
        municipality=municipality_a, name="Partielle", kind=PermitKind.PARTIAL, language="fr-ca"
    )
    add = reverse("admin:occupancy_occupancypermittemplate_add")
    form = client.get(f"{add}?permit_type={french.pk}").context["adminform"].form
    assert form.initial["body"] == default_template("partial_fr.html").body
    assert form.initial["stylesheet"] == default_template("partial_fr.html").stylesheet


def test_the_notice_of_revocation_speaks_the_permits_language(
    inspector, chief, open_visit, municipality_a
):
    from occupancy.services import occupancy_permit_revoke

    template = template_in(municipality_a, PermitLanguage.FRENCH)
    permit = issue(visit=open_visit, inspector=inspector, template=template)
    # Revoked by an official working in English: the notice is the permit's, in French.
    with translation.override("en-ca"):
        revocation = occupancy_permit_revoke(
            permit=permit, actor=chief, reason="Occupé avant l'inspection finale.", revoked_on=TODAY
        )
    data = revocation.notice_pdf.read()
    reader, text = PdfReader(io.BytesIO(data)), pdf_text(data).casefold()
    assert str(reader.trailer["/Root"]["/Lang"]) == "fr-CA"
    assert reader.metadata.title == f"Révocation du permis d'occupation {permit.number}"
    assert in_french(TODAY).casefold() in text
    assert "occupé avant l'inspection finale." in text
    assert "revocation of occupancy permit" not in text


def test_a_bilingual_permits_notice_of_revocation_prints_both_texts(
    inspector, chief, open_visit, municipality_a
):
    from occupancy.services import occupancy_permit_revoke

    template = template_in(municipality_a, PermitLanguage.BILINGUAL)
    permit = issue(visit=open_visit, inspector=inspector, template=template)
    with translation.override("fr-ca"):
        revocation = occupancy_permit_revoke(
            permit=permit, actor=chief, reason="Occupied before the final.", revoked_on=TODAY
        )
    data = revocation.notice_pdf.read()
    reader, text = PdfReader(io.BytesIO(data)), pdf_text(data).casefold()
    assert str(reader.trailer["/Root"]["/Lang"]) == "en-CA"  # English first
    assert len(reader.pages) >= 2
    for both in ["notice of revocation", "avis de révocation", in_english(TODAY), in_french(TODAY)]:
        assert both.casefold() in text, both
