"""Templates that cannot break a permit (issue 14, deliverable 5): a body must print the
permit's number, address, granted date and municipality; a render's cost is bounded (no
lorem, bounded widths, bounded loops, a time limit), at validation and while rendering; a new
template starts from the shipped default of its permit type's kind; the admin's lists name
each type's municipality."""

import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import Activity
from demo import builders
from occupancy.defaults import default_template_of_kind
from occupancy.documents import render_permit_html, template_context
from occupancy.models import OccupancyPermitTemplate, OccupancyPermitTemplateVersion, PermitKind
from occupancy.services import permit_template_save
from occupancy.snapshot import PermitSnapshot
from occupancy.template_sandbox import RenderLimitExceeded
from occupancy.template_validation import validate_template_body
from tests.conftest import client_for
from tests.db_rows import rows

TEMPLATE_ADD = reverse("admin:occupancy_occupancypermittemplate_add")
PREVIEW = reverse("admin:occupancy_occupancypermittemplate_preview")
CHANGELIST = reverse("admin:occupancy_occupancypermittemplate_changelist")

# What every permit body must print, on line 1; the construct under test is on line 2.
PRINTS = (
    "{{ permit.number }} {{ application.full_address }} "
    '{{ permit.granted_on|date:"F j, Y" }} {{ municipality.name }}\n'
)
TEN = '"xxxxxxxxxx"'
NESTED_LOOPS = (
    f"{{% for a in {TEN} %}}{{% for b in {TEN} %}}{{% for c in {TEN} %}}"
    f"{{% for d in {TEN} %}}{{% endfor %}}{{% endfor %}}{{% endfor %}}{{% endfor %}}"
)
LOOPS_MESSAGE = (
    "The loops of this template run more than 10,000 times (loops nested over literals?); "
    "a permit lists far fewer items."
)
COSTLY = [
    ("{% lorem 4000 p %}", "Line 2: {% lorem %} is not allowed: write the text the permit prints."),
    (
        '{{ permit.number|ljust:"300000000" }}',
        'Line 2: ljust:"300000000" is too wide: a width of at most 200 is allowed.',
    ),
    (
        '{{ permit.number|center:"99999999999999999999" }}',
        'Line 2: center:"99999999999999999999" is too wide: a width of at most 200 is allowed.',
    ),
    (
        '{{ visit.sequence|stringformat:"0300000000d" }}',
        'Line 2: stringformat:"0300000000d" is too wide: a width of at most 200 is allowed.',
    ),
    (
        '{{ visit.sequence|floatformat:"100000000" }}',
        'Line 2: floatformat:"100000000" asks for too many digits: at most 20 are allowed.',
    ),
    (
        '{{ "x"|rjust:"200"|make_list|join:"' + "y" * 600 + '" }}',
        "Line 2: The filter join would make a value of more than 100,000 characters; a permit "
        "prints nothing that long.",
    ),
    (NESTED_LOOPS, f"Line 2: {LOOPS_MESSAGE}"),
]


def template_post(template, **changes):
    data = {
        "municipality": template.municipality_id,
        "permit_type": template.permit_type_id,
        "name": template.name,
        "is_active": "on",
        "body": template.body,
        "stylesheet": template.stylesheet,
    }
    data.update(changes)
    return data


def change_url(template):
    return reverse("admin:occupancy_occupancypermittemplate_change", args=[template.pk])


def body_errors(response) -> list[str]:
    return response.context["adminform"].form.errors.get("body", [])


MISSING = {
    "number": "The template does not print the permit number: add {{ permit.number }}.",
    "address": "The template does not print the address: add {{ application.full_address }}.",
    "granted": 'The template does not print the granted date: add {{ permit.granted_on|date:"F '
    'j, Y" }}.',
    "municipality": "The template does not print the municipality: add {{ municipality.name }}.",
}


def test_a_body_of_hello_is_refused_naming_each_missing_print(admin_user, general_template):
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body="Hello")
    )
    assert response.status_code == 200
    assert body_errors(response) == list(MISSING.values())
    general_template.refresh_from_db()
    assert (general_template.version, general_template.body) == (1, default_body("general"))


@pytest.mark.parametrize(
    "removed, missing",
    [
        ("{{ permit.number }}", "number"),
        ("{{ application.full_address }}", "address"),
        ('{{ permit.granted_on|date:"F j, Y" }}', "granted"),
        ("{{ municipality.name }}", "municipality"),
    ],
)
def test_a_default_body_without_one_of_the_four_is_refused_for_that_one(
    admin_user, general_template, removed, missing
):
    body = default_body("general").replace(removed, "")
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body=body)
    )
    assert body_errors(response) == [MISSING[missing]]
    general_template.refresh_from_db()
    assert general_template.version == 1


@pytest.mark.parametrize(
    "body",
    [
        PRINTS,
        # The street address is an address too; a value printed through {% with %} is printed.
        "{% with n=permit.number when=permit.granted_on %}{{ n }} {{ when }}{% endwith %}"
        " {{ application.street_address }} {% if municipality.name %}{{ municipality.name }}"
        "{% endif %}",
    ],
)
def test_bodies_printing_the_four_pass(body):
    validate_template_body(body)


NOT_PRINTED = (
    "The template does not print {} when rendered with sample data (is it inside an "
    "{{% if %}} or a loop that prints nothing?): print {} on every permit."
)
HIDDEN = {
    "number": NOT_PRINTED.format("the permit number", "{{ permit.number }}"),
    "address": NOT_PRINTED.format("the address", "{{ application.full_address }}"),
    "municipality": NOT_PRINTED.format("the municipality", "{{ municipality.name }}"),
}


@pytest.mark.parametrize(
    "hiding",
    [
        ("{% if 0 %}", "{% endif %}"),
        ('{% for x in "" %}', "{% endfor %}"),
        ("{% if 0 %}", "{% else %}No permit{% endif %}"),
        ('{% with hide="" %}{% if hide %}', "{% endif %}{% endwith %}"),
    ],
)
def test_required_values_hidden_in_a_branch_that_prints_nothing_are_refused(hiding):
    opening, closing = hiding
    with pytest.raises(ValidationError) as refused:
        validate_template_body(f"Hello{opening}{PRINTS}{closing}")
    assert refused.value.messages == list(HIDDEN.values())


def test_one_hidden_value_is_named_at_the_body_field(admin_user, general_template):
    body = default_body("general").replace(
        "{{ municipality.name }}", "{% if 0 %}{{ municipality.name }}{% endif %}"
    )
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body=body)
    )
    assert body_errors(response) == [HIDDEN["municipality"]]
    general_template.refresh_from_db()
    assert general_template.version == 1


def test_required_values_printed_transformed_are_printed():
    validate_template_body(
        "{{ permit.number|lower }} {{ application.full_address|upper }} "
        '{{ permit.granted_on|date:"Y" }} <b>{{ municipality.name|title }}</b>'
    )


@pytest.mark.parametrize("kind", PermitKind.values)
def test_every_shipped_default_passes(kind, general_type):
    validate_template_body(default_body(kind))
    validate_template_body(default_body(kind), permit_type=general_type)


@pytest.mark.parametrize("construct, message", COSTLY)
def test_costly_constructs_are_refused_at_the_body_field(
    admin_user, general_template, construct, message
):
    started = time.monotonic()
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body=PRINTS + construct)
    )
    assert time.monotonic() - started < 10
    assert response.status_code == 200
    assert body_errors(response) == [message]
    general_template.refresh_from_db()
    assert general_template.version == 1


@pytest.mark.parametrize("construct, message", COSTLY)
def test_costly_constructs_are_refused_by_the_preview_with_their_message(
    admin_user, general_template, construct, message
):
    response = client_for(admin_user).post(
        PREVIEW, template_post(general_template, body=PRINTS + construct)
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "The template cannot be previewed" in response.content.decode()
    assert response.context["errors"] == [message]


def test_a_body_too_long_is_refused(admin_user, general_template):
    body = PRINTS + "<p>x</p>" * 25_001
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, body=body)
    )
    assert len(body) == 200_121
    assert body_errors(response) == [
        "The template is 200,121 characters long; at most 200,000 are allowed."
    ]


@pytest.mark.parametrize(
    "construct, message",
    [
        ('{{ permit.number|ljust:"300000000" }}', 'ljust:"300000000" is too wide'),
        (NESTED_LOOPS, LOOPS_MESSAGE),
        # Empty loops cost time too: counted though they write nothing.
        (NESTED_LOOPS.replace("{% endfor %}", "{{ a }}{% endfor %}", 1), LOOPS_MESSAGE),
    ],
)
def test_a_template_saved_before_the_limits_is_bounded_while_rendering(
    general_type, construct, message
):
    """A body saved before issue 14 is never validated again; the sandbox bounds it anyway."""
    snapshot = PermitSnapshot.sample(
        permit_type=general_type, municipality=general_type.municipality
    )
    started = time.monotonic()
    with pytest.raises(RenderLimitExceeded, match=re.escape(message)):
        render_permit_html(PRINTS + construct, template_context(snapshot.to_json()))
    assert time.monotonic() - started < 10


def test_loops_writing_too_much_are_stopped_while_rendering(general_type):
    snapshot = PermitSnapshot.sample(
        permit_type=general_type, municipality=general_type.municipality
    )
    wide = '{{ "x"|ljust:"200" }}' * 20
    # 9,000 iterations (under the limit), 4,000 characters each.
    outer, inner = '"' + "x" * 100 + '"', '"' + "x" * 90 + '"'
    body = f"{{% for a in {outer} %}}{{% for b in {inner} %}}{wide}{{% endfor %}}{{% endfor %}}"
    with pytest.raises(RenderLimitExceeded, match="write more than 2,000,000 characters"):
        render_permit_html(body, template_context(snapshot.to_json()))


# Nine nested {% with %}, each doubling a 100-character value (51,200 characters, under the
# filters' bound), printed 2,000 times: ~100 MB written by no loop at all.
DOUBLINGS = "".join(f"{{% with v{i + 1}=v{i}|add:v{i} %}}" for i in range(9))
WITH_BOMB = (
    '{% with v0="' + "x" * 100 + '" %}' + DOUBLINGS + "{{ v9 }}" * 2000 + "{% endwith %}" * 10
)
OUTPUT_MESSAGE = (
    "This template would write more than 2,000,000 characters; a permit is far shorter."
)


def test_output_outside_any_loop_is_bounded_at_validation():
    started = time.monotonic()
    with pytest.raises(ValidationError) as refused:
        validate_template_body(PRINTS + WITH_BOMB)
    assert refused.value.messages == [f"Line 2: {OUTPUT_MESSAGE}"]
    assert time.monotonic() - started < 5


def test_output_outside_any_loop_is_bounded_while_rendering(general_type):
    snapshot = PermitSnapshot.sample(
        permit_type=general_type, municipality=general_type.municipality
    )
    with pytest.raises(RenderLimitExceeded, match=re.escape(OUTPUT_MESSAGE)):
        render_permit_html(PRINTS + WITH_BOMB, template_context(snapshot.to_json()))
    # Top-level prints, no tag at all, are counted too.
    wide = '{{ permit.number|rjust:"200"|make_list|join:"' + "y" * 500 + '" }}'
    with pytest.raises(RenderLimitExceeded, match=re.escape(OUTPUT_MESSAGE)):
        render_permit_html(PRINTS + wide * 30, template_context(snapshot.to_json()))


def test_the_service_refuses_what_the_form_refuses_and_saves_nothing(general_template, admin_user):
    before = rows(OccupancyPermitTemplate, OccupancyPermitTemplateVersion, Activity)
    general_template.body = "Hello"
    with pytest.raises(ValidationError) as refused:
        permit_template_save(template=general_template, actor=admin_user)
    assert refused.value.messages == list(MISSING.values())
    assert rows(OccupancyPermitTemplate, OccupancyPermitTemplateVersion, Activity) == before


def test_a_template_saved_before_the_rules_is_not_copied_and_the_action_says_why(
    admin_user, general_type
):
    old = builders.permit_template(
        permit_type=general_type, name="Old", body="<p>{{ permit.number }}</p>", stylesheet=""
    )
    before = rows(OccupancyPermitTemplate, OccupancyPermitTemplateVersion)
    response = client_for(admin_user).post(
        CHANGELIST, {"action": "copy_templates", "_selected_action": [old.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Old was not copied: " + " ".join(list(MISSING.values())[1:]) + " Correct the template "
        "first."
    ]
    assert rows(OccupancyPermitTemplate, OccupancyPermitTemplateVersion) == before
    # The old template itself keeps working: its change page opens.
    assert client_for(admin_user).get(change_url(old)).status_code == 200


def default_body(kind) -> str:
    return default_template_of_kind(kind).body


@pytest.mark.parametrize(
    "kind, type_fixture", [("general", "general_type"), ("partial", "partial_type")]
)
def test_the_add_form_of_a_type_starts_from_the_default_of_its_kind(
    admin_user, request, kind, type_fixture
):
    permit_type = request.getfixturevalue(type_fixture)
    response = client_for(admin_user).get(f"{TEMPLATE_ADD}?permit_type={permit_type.pk}")
    initial = response.context["adminform"].form.initial
    default = default_template_of_kind(kind)
    assert (initial["body"], initial["stylesheet"]) == (default.body, default.stylesheet)
    assert (initial["permit_type"], initial["municipality"]) == (
        permit_type.pk,
        permit_type.municipality_id,
    )
    assert default.body != default_body("temporary")


@pytest.mark.parametrize("query", ["?permit_type=999999", "?permit_type=abc", ""])
def test_the_add_form_without_a_known_type_starts_empty(admin_user, general_type, query):
    response = client_for(admin_user).get(TEMPLATE_ADD + query)
    assert response.status_code == 200
    assert "body" not in response.context["adminform"].form.initial


def test_the_add_page_links_each_type_to_its_default_without_javascript(
    admin_user, general_type, partial_type, municipality_b
):
    beta_general = builders.permit_type(municipality=municipality_b, name="General")
    html = client_for(admin_user).get(TEMPLATE_ADD).content.decode()
    for permit_type, label in [
        (general_type, "General (Town of Alpha)"),
        (partial_type, "Partial (Town of Alpha)"),
        (beta_general, "General (Township of Beta)"),
    ]:
        assert f'<a href="{TEMPLATE_ADD}?permit_type={permit_type.pk}">{label}</a>' in html


def test_a_new_template_left_empty_is_saved_with_the_default_of_its_type(admin_user, partial_type):
    response = client_for(admin_user).post(
        TEMPLATE_ADD,
        {
            "municipality": partial_type.municipality_id,
            "permit_type": partial_type.pk,
            "name": "Partial, as shipped",
            "is_active": "on",
            "body": "",
            "stylesheet": "",
        },
    )
    assert response.status_code == 302
    template = OccupancyPermitTemplate.objects.get(name="Partial, as shipped")
    default = default_template_of_kind("partial")
    assert (template.body, template.stylesheet, template.version) == (
        default.body,
        default.stylesheet,
        1,
    )
    assert template.versions.get().body == default.body


def test_a_new_template_left_empty_without_a_type_is_refused(admin_user, municipality_a):
    before = rows(OccupancyPermitTemplate)
    response = client_for(admin_user).post(
        TEMPLATE_ADD,
        {"municipality": municipality_a.pk, "name": "No type", "body": "", "stylesheet": ""},
    )
    assert body_errors(response) == [
        "Write the template, or choose its permit type to start from the shipped default of "
        "its kind."
    ]
    assert rows(OccupancyPermitTemplate) == before


def test_choices_and_lists_name_the_municipality(
    admin_user, general_template, general_type, municipality_b
):
    beta_general = builders.permit_type(municipality=municipality_b, name="General")
    client = client_for(admin_user)
    field = client.get(change_url(general_template)).context["adminform"].form.fields["permit_type"]
    labels = [label for _, label in field.choices][1:]
    assert labels == ["General (Town of Alpha)", "General (Township of Beta)"]
    listing = client.get(CHANGELIST).content.decode()
    assert "General (Town of Alpha)" in listing
    types = client.get(reverse("admin:occupancy_occupancypermittype_changelist"))
    html = types.content.decode()
    for permit_type in (general_type, beta_general):
        assert f'href="{TEMPLATE_ADD}?permit_type={permit_type.pk}"' in html
    assert "New template from the general default" in html


def test_a_render_over_its_time_limit_is_stopped_with_a_message(
    admin_user, general_template, monkeypatch
):
    from occupancy import template_sandbox

    monkeypatch.setattr(template_sandbox, "RENDER_SECONDS", 0.0)
    body = PRINTS + "{% for matter in outstanding_matters %}{{ matter.kind }}{% endfor %}"
    response = client_for(admin_user).post(PREVIEW, template_post(general_template, body=body))
    assert response.status_code == 400
    assert response.context["errors"] == [
        "Line 1: The template takes more than 0 seconds to render; simplify it."
    ]


def test_another_municipalitys_type_neither_fills_the_add_form_nor_is_offered(
    town_admin_b, general_type, municipality_b
):
    beta_general = builders.permit_type(municipality=municipality_b, name="General")
    client = client_for(town_admin_b)
    response = client.get(f"{TEMPLATE_ADD}?permit_type={general_type.pk}")
    assert response.status_code == 200
    assert "body" not in response.context["adminform"].form.initial
    html = response.content.decode()
    assert "Town of Alpha" not in html
    assert (
        f'<a href="{TEMPLATE_ADD}?permit_type={beta_general.pk}">General (Township of Beta)</a>'
        in html
    )
