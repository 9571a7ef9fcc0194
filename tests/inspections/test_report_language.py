"""Issue 18, deliverable 4: the inspection report is e-mailed to the applicant, so it is
written, dated, titled and tagged (/Lang) in the application's language of correspondence,
whatever the language of the person who closes the visit."""

import io

from django.utils import dateformat, timezone, translation
from pypdf import PdfReader

from inspections import services
from inspections.models import FailureReason, OrderType, Visit, VisitResult
from occupancy.services import visit_finish_and_close
from tests.factories import make_finding, make_inspection, make_order
from tests.occupancy.conftest import pdf_text

GUARD = "Guard too low on the rear deck"
PAINT = "Paint touch-ups on the stair stringer"
RAISE_GUARD = "Raise the rear deck guard to 1070 mm."


def closed_report(application, inspection_type, inspector, *, language: str):
    """Visit 1 of a new inspection with a deficiency, a remark and an order, closed Failed by
    an inspector working in `language`: the report's PDF reader."""
    inspection = make_inspection(application, inspection_type)
    visit = services.visit_start(inspection=inspection, actor=inspector)
    guard = make_finding(visit, inspector, description=GUARD)
    make_finding(visit, inspector, description=PAINT, is_remark=True)
    make_order(
        visit,
        inspector,
        order_type=OrderType.ORDER_TO_COMPLY,
        issued_to="Jordan Smith, owner",
        description=RAISE_GUARD,
        comply_by=None,
        findings=[guard],
    )
    with translation.override(language):
        outcome = visit_finish_and_close(
            visit=visit,
            actor=inspector,
            result=VisitResult.FAILED,
            failure_reason=FailureReason.DEFICIENCIES,
        )
    # Stored by its job right after the close (at once in tests).
    report = Visit.objects.get(pk=outcome.visit.pk).report_pdf.read()
    return PdfReader(io.BytesIO(report)), pdf_text(report)


def test_a_french_application_gets_its_inspection_report_in_french(
    french, application_a, framing_type_a, inspector
):
    application_a.correspondence_language = "fr-ca"
    application_a.save(update_fields=["correspondence_language"])
    reader, text = closed_report(application_a, framing_type_a, inspector, language="en-ca")
    number = application_a.number
    assert str(reader.trailer["/Root"]["/Lang"]) == "fr-CA"
    assert reader.metadata.title == f"Rapport d'inspection {number} visite 1"
    closed = Visit.objects.get(inspection__application=application_a).closed_at
    with translation.override("fr-ca"):
        closed_on = dateformat.format(timezone.localtime(closed), "j F Y à H:i")
    for label in [
        "Rapport d'inspection",
        f"Demande {number}",
        "Demandeur / propriétaire",
        "Inspecteur",
        f"Close {closed_on}",
        "Résultat : Échouée (pas essentiellement terminée) — Défauts",
        "En suspens après cette visite : 1 défaut et 1 ordre, chacun énuméré une seule fois "
        "ci-dessous.",
        "Défauts et remarques consignés lors de cette visite",
        f"1. Défaut constaté le {timezone.localdate().day} ",
        "en suspens jusqu'à ce qu'une visite ultérieure le marque corrigé",
        "2. Remarque constatée le",
        "Ordres donnés lors de cette visite",
        "Ordre de se conformer donné à Jordan Smith, owner, aucune date limite de conformité "
        f"fixée — {RAISE_GUARD} (concernant défaut 1)",
        "Aucune photo.",
        f"Rapport d'inspection {number} · visite 1",
        "Page 1 de 1",
    ]:
        assert label in text, label
    # What people typed is printed as typed.
    assert GUARD in text and PAINT in text
    for english in ["Inspection report", "Result:", "Outstanding after", "Page 1 of 1"]:
        assert english not in text


def test_an_english_application_gets_its_report_in_english_whoever_closes(
    french, application_a, framing_type_a, inspector
):
    assert application_a.correspondence_language == "en-ca"
    reader, text = closed_report(application_a, framing_type_a, inspector, language="fr-ca")
    number = application_a.number
    assert str(reader.trailer["/Root"]["/Lang"]) == "en-CA"
    assert reader.metadata.title == f"Inspection report {number} visit 1"
    today = timezone.localdate()
    for label in [
        f"Application {number}",
        "Result: Failed (Not substantially complete) — Deficiencies",
        "Outstanding after this visit: 1 deficiency and 1 order, each listed below once.",
        f"1. Deficiency noted {today:%B} {today.day}, {today.year}, outstanding until a later "
        "visit marks it corrected",
        "Order to Comply issued to Jordan Smith, owner, no comply-by date set — "
        f"{RAISE_GUARD} (concerning deficiency 1)",
        f"Inspection report {number} · visit 1",
        "Page 1 of 1",
    ]:
        assert label in text, label
    assert "Rapport" not in text and "Défaut" not in text
