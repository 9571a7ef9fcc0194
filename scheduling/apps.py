from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Inspection requests"

    def ready(self):
        from scheduling import sections, signals  # noqa: F401 - signals connects receivers

        sections.register()
