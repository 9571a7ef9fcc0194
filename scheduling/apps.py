from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Inspection requests")

    def ready(self):
        from scheduling import sections, signals  # noqa: F401 - signals connects receivers

        sections.register()
