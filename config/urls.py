from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from core import accounts
from core.admin_scoping import view_on_site

admin.site.site_header = _("Threshold administration")
admin.site.site_title = "Threshold"

urlpatterns = [
    path("", include("permits.urls")),
    path("", include("inspections.urls")),
    path("", include("occupancy.urls")),
    path("", include("scheduling.urls")),
    # Before Django's own account URLs: the same names, adapted (accounts.LoginView) or
    # throttled.
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path(
        "accounts/password_reset/",
        accounts.ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/language", accounts.language_switch, name="language_switch"),
    path("accounts/preferences/", accounts.preferences, name="preferences"),
    path("accounts/two-factor/", accounts.two_factor_status, name="two_factor_status"),
    path("accounts/two-factor/verify", accounts.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup", accounts.two_factor_setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes",
        accounts.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path(
        "accounts/two-factor/recovery-codes/regenerate",
        accounts.two_factor_recovery_codes_regenerate,
        name="two_factor_recovery_codes_regenerate",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # Before the admin's own: its "View on site", scoped to the user's municipalities.
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(view_on_site),
    ),
    path("admin/", admin.site.urls),
]
