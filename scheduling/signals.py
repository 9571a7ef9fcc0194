"""A visit started on a requested inspection belongs to its request; closing the visit
completes the request.

Signals, because visits are started and closed by inspections (and occupancy's Finish and
Close), which are below this app and must not know about requests: the same reason as
inspections.signals. post_save runs inside the transaction that starts or closes the visit,
so the request changes with the visit or not at all. A visit saved again once closed (its
report, later) finds no open request and changes nothing.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from inspections.models import Visit, VisitStatus
from scheduling.services import request_complete, request_link_visit


@receiver(post_save, sender=Visit, dispatch_uid="scheduling_visit_saved")
def visit_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        request_link_visit(visit=instance)
    if instance.status == VisitStatus.CLOSED:
        request_complete(visit=instance)
