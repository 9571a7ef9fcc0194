"""The application list's rows (permits.result_rows): what a user reads, in English and in
French, and each piece the same as the template used to compute it per row."""

import datetime
import re

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from core.models import Role
from permits.models import Application, ApplicationStatus
from permits.result_rows import result_rows
from tests.conftest import client_for, make_application

LIST = reverse("permits:application_list")
AT = timezone.make_aware(datetime.datetime(2026, 3, 4, 9, 5))  # the site's time zone

# What the template wrote for each piece before the rows were built in Python.
REFERENCE = {
    "applicant": "{% blocktranslate trimmed with name=a.applicant_name %}"
    "Applicant: {{ name }}{% endblocktranslate %}",
    "owner": "{% if a.owner_name %}{% blocktranslate trimmed with name=a.owner_name %}"
    "Owner: {{ name }}{% endblocktranslate %}{% endif %}",
    "roll": "{% if a.roll_number %}{% blocktranslate trimmed with roll=a.roll_number %}"
    "Roll {{ roll }}{% endblocktranslate %}{% endif %}",
    "latest_activity": '{% blocktranslate trimmed with at=a.last_activity_at|date:"Y-m-d H:i" %}'
    "Latest activity {{ at }}{% endblocktranslate %}",
    "url": "{{ a.get_absolute_url }}",
    "number": "{{ a.number }}",
    "address": "{{ a.full_address }}",
    "status": "{{ a.status }}",
    "status_label": "{{ a.get_status_display }}",
    "municipality": "{{ a.municipality.name }}",
}


def rendered_rows(html: str) -> list[str]:
    """The list's rows as a browser reads them: whitespace collapsed."""
    return [
        " ".join(row.split()) for row in re.findall(r'<li class="card mb-2">.*?</li>', html, re.S)
    ]


@pytest.fixture
def two_rows(municipality_a):
    make_application(
        municipality_a,
        number="B-2026-0102",
        unit="12",
        street_address="88 Brant Street",
        applicant_name="O'Brien & <Sons>",
        owner_name="Mei Chen",
        roll_number="2402 111 222 33300 0000",
        status=ApplicationStatus.IN_REVIEW,
        last_activity_at=AT,
    )
    make_application(
        municipality_a,
        number="B-2026-0101",
        street_address="12 Lakeshore Road",
        owner_name="",
        roll_number="",
        status=ApplicationStatus.OCCUPIED,
        last_activity_at=AT - datetime.timedelta(days=1),
    )


ROWS = {
    "en-ca": [
        '<li class="card mb-2"> <div class="card-body py-2"> '
        '<div class="d-flex flex-wrap justify-content-between gap-2"> '
        '<a class="stretched-link fw-semibold fs-5 text-decoration-none" '
        'href="/applications/alpha/B-2026-0102/"> B-2026-0102 · 12-88 Brant Street, Alpha </a> '
        '<span class="badge status-badge status-in_review align-self-center">In review</span> '
        '</div> <div class="text-body-secondary small"> '
        "Applicant: O&#x27;Brien &amp; &lt;Sons&gt; · Owner: Mei Chen · "
        "Roll 2402 111 222 33300 0000 · Latest activity 2026-03-04 09:05 </div> </div> </li>",
        '<li class="card mb-2"> <div class="card-body py-2"> '
        '<div class="d-flex flex-wrap justify-content-between gap-2"> '
        '<a class="stretched-link fw-semibold fs-5 text-decoration-none" '
        'href="/applications/alpha/B-2026-0101/"> B-2026-0101 · 12 Lakeshore Road, Alpha </a> '
        '<span class="badge status-badge status-occupied align-self-center">Occupied</span> '
        '</div> <div class="text-body-secondary small"> '
        "Applicant: Priya Raman · Latest activity 2026-03-03 09:05 </div> </div> </li>",
    ],
    "fr-ca": [
        '<li class="card mb-2"> <div class="card-body py-2"> '
        '<div class="d-flex flex-wrap justify-content-between gap-2"> '
        '<a class="stretched-link fw-semibold fs-5 text-decoration-none" '
        'href="/applications/alpha/B-2026-0102/"> B-2026-0102 · 12-88 Brant Street, Alpha </a> '
        '<span class="badge status-badge status-in_review align-self-center">En examen</span> '
        '</div> <div class="text-body-secondary small"> '
        "Demandeur : O&#x27;Brien &amp; &lt;Sons&gt; · Propriétaire : Mei Chen · "
        "Rôle 2402 111 222 33300 0000 · Dernière activité le 2026-03-04 09:05 </div> </div> </li>",
        '<li class="card mb-2"> <div class="card-body py-2"> '
        '<div class="d-flex flex-wrap justify-content-between gap-2"> '
        '<a class="stretched-link fw-semibold fs-5 text-decoration-none" '
        'href="/applications/alpha/B-2026-0101/"> B-2026-0101 · 12 Lakeshore Road, Alpha </a> '
        '<span class="badge status-badge status-occupied align-self-center">Occupée</span> '
        '</div> <div class="text-body-secondary small"> '
        "Demandeur : Priya Raman · Dernière activité le 2026-03-03 09:05 </div> </div> </li>",
    ],
}


@pytest.mark.parametrize("language", ["en-ca", "fr-ca"])
def test_the_lists_rows_read_the_same_in_each_language(inspector, two_rows, language):
    response = client_for(inspector).get(LIST, headers={"accept-language": language})
    assert response["Content-Language"] == language
    assert rendered_rows(response.content.decode()) == ROWS[language]


@pytest.mark.parametrize("language", ["en-ca", "fr-ca"])
def test_each_piece_of_a_row_is_what_the_template_computed(municipality_a, language):
    """Every status, with and without owner and roll number, numbers that reverse() writes
    unchanged and numbers it quotes (those take Application.get_absolute_url())."""
    numbers = ["B-2026-0001", "b.2026_7", "A~1", "B 2026 7", "Bé-1", "100%", "..", "x&y"]
    statuses = list(ApplicationStatus.values)
    for i, number in enumerate(numbers + [f"C-{i}" for i in range(len(statuses))]):
        make_application(
            municipality_a,
            number=number,
            status=statuses[i % len(statuses)],
            owner_name="" if i % 2 else "Zoë <b>Tremblay</b>",
            roll_number="" if i % 3 else f"2402 {i:03d}",
            last_activity_at=AT + datetime.timedelta(minutes=37 * i),
        )
    applications = list(Application.objects.select_related("municipality").order_by("pk"))
    engine = engines["django"]
    pieces = {k: engine.from_string("{% load i18n %}" + t) for k, t in REFERENCE.items()}
    with translation.override(language):
        rows = result_rows(applications)
        for application, row in zip(applications, rows, strict=True):
            expected = {k: t.render({"a": application}) for k, t in pieces.items()}
            # As {{ row.piece }} writes it: escaped unless already safe (the translated ones).
            assert {k: conditional_escape(row[k]) for k in REFERENCE} == expected, application


@pytest.mark.parametrize(
    "broken",
    ["Demandeur 100 % : %(name)s", "Demandeur : %(nom)s", "Demandeur : %(name)d"],
    ids=["stray percent", "misspelt placeholder", "wrong conversion"],
)
def test_a_translation_that_cannot_be_filled_gives_the_english_row(
    inspector, two_rows, monkeypatch, broken
):
    """As {% blocktranslate %} did: a catalogue's mistake shows the English text, the page
    still answers (translations check does not catch a stray % in French typography)."""
    real_gettext = translation.gettext

    def catalogue_with_a_mistake(message):
        return broken if message == "Applicant: %(name)s" else real_gettext(message)

    monkeypatch.setattr("permits.result_rows.gettext", catalogue_with_a_mistake)
    client = client_for(inspector)
    client.cookies["django_language"] = "fr-ca"
    response = client.get(LIST, headers={"accept-language": "fr-ca"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Applicant: O&#x27;Brien &amp; &lt;Sons&gt;" in html  # English, still escaped
    assert "Propriétaire" in html  # the other pieces stay French


def test_a_row_names_its_municipality_only_to_someone_who_sees_several(
    inspector, municipality_b, application_a, application_b
):
    """Someone with a role in two municipalities (or a superuser) reads which one each
    application belongs to; someone in one municipality does not need it."""

    def rows_for(user):
        return rendered_rows(client_for(user).get(LIST).content.decode())

    assert not any(municipality_b.name in row for row in rows_for(inspector))
    assert all(not row.endswith(f"· {application_a.municipality.name} </div> </div> </li>")
               for row in rows_for(inspector))  # fmt: skip
    inspector.memberships.create(municipality=municipality_b, role=Role.INSPECTOR)
    rows = rows_for(inspector)
    assert len(rows) == 2
    names = {application_a.municipality.name, municipality_b.name}
    assert {row.rsplit("·", 1)[1].split("<")[0].strip() for row in rows} == names
