"""An administrator edits an occupancy permit template in the Django admin and previews it as
a PDF before saving."""

import pytest
from playwright.sync_api import expect

from occupancy.models import OccupancyPermitTemplate
from tests.browser.conftest import log_in_with_cookie
from tests.occupancy.conftest import pdf_text

pytestmark = pytest.mark.browser

HEADING = "<h2>Description of occupancy</h2>"
EDITED = "<h2>Use and occupancy authorized</h2>"


def test_administrator_edits_a_template_and_previews_it(
    context, page, pages, live_server, admin_user, permit_templates
):
    template = permit_templates["general"]
    original = template.body
    assert HEADING in original
    log_in_with_cookie(context, live_server, admin_user)
    page.goto(f"/admin/occupancy/occupancypermittemplate/{template.pk}/change/")
    body = page.get_by_label("Body")
    body.fill(body.input_value().replace(HEADING, EDITED))
    pages.check("admin-template-edited")

    # Preview PDF opens the rendering in a new tab; keep the bytes the server sent.
    previews = []

    def keep(route):
        response = route.fetch()
        previews.append((response.status, response.headers.get("content-type"), response.body()))
        route.fulfill(response=response)

    context.route("**/occupancypermittemplate/preview/", keep)
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Preview PDF").click()
    popup.value.wait_for_load_state()
    status, content_type, pdf = previews[-1]
    assert (status, content_type) == (200, "application/pdf")
    text = pdf_text(pdf).lower()  # the template's CSS sets headings in capitals
    assert "use and occupancy authorized" in text
    assert "description of occupancy" not in text
    template.refresh_from_db()
    assert template.body == original  # a preview saves nothing
    popup.value.close()

    # A template that does not render: the preview says why, on an accessible page.
    body.fill(body.input_value() + "\n{% load static %}")
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Preview PDF").click()
    errors = popup.value
    errors.wait_for_load_state()
    assert previews[-1][0] == 400
    pages.watch(errors)
    pages.check("admin-template-preview-errors", errors)
    errors.close()

    # Save the edited body (without the broken line).
    body.fill(original.replace(HEADING, EDITED))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    template = OccupancyPermitTemplate.objects.get(pk=template.pk)
    assert EDITED in template.body
    assert template.version == 2
