from django.urls import path

from occupancy import views

app_name = "occupancy"

urlpatterns = [
    path("occupancy/inspections/<str:code>/result", views.visit_result, name="visit_result"),
    path("occupancy/inspections/<str:code>/confirm", views.visit_confirm, name="visit_confirm"),
    path("occupancy/inspections/<str:code>/close", views.visit_close, name="visit_close"),
    # The addresses before issue 12, for pages left open across the upgrade.
    path("inspections/<str:code>/result", views.moved_permanently("occupancy:visit_result")),
    path("inspections/<str:code>/confirm", views.moved_permanently("occupancy:visit_confirm")),
    path("inspections/<str:code>/close", views.moved_permanently("occupancy:visit_close")),
    # Before permit_pdf, whose <number> may hold '/' (numbers issued before issue 14): a fixed
    # word right after the municipality keeps these apart from any number that does not
    # itself begin with "revoke/" or "notice/".
    path(
        "occupancy/<slug:municipality>/revoke/<path:number>",
        views.permit_revoke,
        name="permit_revoke",
    ),
    path(
        "occupancy/<slug:municipality>/notice/<path:number>.pdf",
        views.revocation_notice_pdf,
        name="revocation_notice_pdf",
    ),
    # The public verification page printed on every permit (no login): a random token,
    # never the number, so the page cannot be walked through.
    path("v/<str:token>", views.verify, name="verify"),
    # <path:>: a number issued before issue 14 may hold '/' (e.g. OCC/2026/0001); formats
    # saved since then give only letters, digits, - _ and . (occupancy.numbering).
    path(
        "occupancy/<slug:municipality>/<path:number>.pdf",
        views.permit_pdf,
        name="permit_pdf",
    ),
]
