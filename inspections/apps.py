from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "Inspections"

    def ready(self):
        from inspections import sections, signals  # noqa: F401 - signals connects receivers

        sections.register()
