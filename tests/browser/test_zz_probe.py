import pytest
from tests.browser.conftest import log_in_with_cookie

def test_probe(context, page, live_server, admin_user, permit_templates):
    log_in_with_cookie(context, live_server, admin_user)
    t = permit_templates["general"]
    page.on("console", lambda m: print(m.type, m.location, m.text[:100]))
    html = page.goto(f"/admin/occupancy/occupancypermittemplate/{t.pk}/change/").text()
    import re
    print(re.findall(r'<script[^>]*>', html))
    print(re.findall(r'<link[^>]*>', html))
