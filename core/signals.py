"""Receivers that keep derived state in step with the rows it derives from.

A person's staff status (may they enter the admin?) follows their memberships
(core.services.user_sync_staff_status) however a membership changes: saved or deleted in the
admin (one row, an inline, "Delete selected"), moved to another person, or by a service.
Bulk queryset.update() sends no signal: nothing in the project changes roles that way.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from core.models import Membership
from core.services import user_sync_staff_status

# The person a membership belonged to before a save that moves it to someone else.
_PREVIOUS_USER_ID = "_staff_sync_previous_user_id"


@receiver(pre_save, sender=Membership, dispatch_uid="membership_remember_previous_user")
def membership_remember_previous_user(sender, instance, **kwargs):
    if instance.pk is None:
        return
    previous = Membership.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    setattr(instance, _PREVIOUS_USER_ID, previous)


@receiver(post_save, sender=Membership, dispatch_uid="membership_saved_sync_staff")
def membership_saved_sync_staff(sender, instance, **kwargs):
    # instance.user is the caller's own object when it has one (the user creation form
    # saves it again afterwards): its is_staff is set in memory too.
    user_sync_staff_status(user=instance.user)
    previous = getattr(instance, _PREVIOUS_USER_ID, None)
    if previous is not None and previous != instance.user_id:
        _sync_user_id(previous)


@receiver(post_delete, sender=Membership, dispatch_uid="membership_deleted_sync_staff")
def membership_deleted_sync_staff(sender, instance, origin=None, **kwargs):
    if _deletes_a_user(origin):
        # The memberships of a person being deleted go with them: nothing to sync, and the
        # person's row must not be written in the middle of its deletion.
        return
    _sync_user_id(instance.user_id)


def _deletes_a_user(origin) -> bool:
    user_model = get_user_model()
    if isinstance(origin, user_model):
        return True
    return isinstance(origin, models.QuerySet) and issubclass(origin.model, user_model)


def _sync_user_id(user_id) -> None:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None:
        user_sync_staff_status(user=user)
