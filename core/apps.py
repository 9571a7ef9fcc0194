from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Municipalities, staff and audit trail")

    def ready(self):
        from core import (
            checks,  # noqa: F401 - registers the system checks
            language,  # noqa: F401 - carries a user's language from the login
            prepared_statements,
            signals,  # noqa: F401 - connects the receivers
        )
        from core.admin import restrict_other_apps_to_superusers

        restrict_other_apps_to_superusers()
        # Before any connection opens: web servers, the job worker and commands alike.
        prepared_statements.install()
