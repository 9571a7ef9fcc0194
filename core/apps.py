from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Municipalities, staff and audit trail"

    def ready(self):
        from core.admin import restrict_other_apps_to_superusers

        restrict_other_apps_to_superusers()
