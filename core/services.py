"""State changes of core's own records."""

from core.models import Role


def user_sync_staff_status(*, user) -> None:
    """A user who is not a superuser may enter the admin exactly while one of their
    memberships is Municipal administrator (the admin site lets in staff only; what they see
    there is scoped by core.admin_scoping). Called by core.signals whenever a membership is
    saved or deleted.

    Side effects: the user's is_staff.
    """
    if user.is_superuser:
        return
    is_staff = user.memberships.filter(role=Role.MUNICIPAL_ADMIN).exists()
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
