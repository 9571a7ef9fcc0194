from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Municipalities, staff and audit trail"

    def ready(self):
        from core import (
            checks,  # noqa: F401 - registers the system checks
            signals,  # noqa: F401 - connects the receivers
        )
        from core.admin import restrict_other_apps_to_superusers

        restrict_other_apps_to_superusers()
