"""The authentication backend: Django's ModelBackend, loading request.user together with
the user's memberships and roles' permissions (core.access) in one query."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from core import access


class MembershipBackend(ModelBackend):
    """Every signed-in request loads its user through `get_user`; the access checks of the
    same request then read what this query brought instead of asking again (issue 16: the
    user, the memberships and the permissions were three queries per page)."""

    def get_user(self, user_id):
        try:
            user = access.user_with_access(user_id)
        except ValidationError:  # not a primary key's value: nobody is signed in
            return None
        return user if user is not None and self.user_can_authenticate(user) else None
