from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OccupancyConfig(AppConfig):
    name = "occupancy"
    verbose_name = _("Occupancy permits")

    def ready(self):
        from inspections.signals import visit_report_stored
        from occupancy import sections, services

        sections.register()
        # The applicant's e-mail attaches the inspection report, which a job stores after
        # the close (inspections.tasks): it is asked for once the report is there.
        visit_report_stored.connect(
            services.close_documents_when_report_stored,
            dispatch_uid="occupancy_close_documents_email",
        )
