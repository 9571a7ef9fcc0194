"""New applications get their municipality's default inspections.

A signal, because applications are created in the permits app (admin, import), which must
not depend on inspections; bulk imports of historic records deliberately bypass it.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from inspections.services import application_add_default_inspections
from permits.models import Application


@receiver(post_save, sender=Application, dispatch_uid="inspections_default_inspections")
def add_default_inspections(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        application_add_default_inspections(application=instance)
