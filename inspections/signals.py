"""New applications get their municipality's default inspections.

A signal, because applications are created in the permits app (admin, import), which must
not depend on inspections; bulk imports of historic records deliberately bypass it.

And the signal inspections sends: `visit_report_stored`, once a closed visit's inspection
report is stored (inspections.tasks.visit_report_render, after the close), with `visit`
(its report_pdf and report_sha256 set). Occupancy, above inspections, mails the applicant
the documents of the close then (occupancy.apps).
"""

from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from inspections.services import application_add_default_inspections
from permits.models import Application

visit_report_stored = Signal()


@receiver(post_save, sender=Application, dispatch_uid="inspections_default_inspections")
def add_default_inspections(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        application_add_default_inspections(application=instance)
