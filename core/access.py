"""Who may see and do what, scoped to the user's municipalities.

Membership says *where* a user works and in which role; the Django group linked to the role
(core.RoleGroup, by the role's value) says *what* that role may do (its permissions, editable
in the admin by the platform operator). Every view loads objects through an access helper:
another municipality's object is a 404 (its existence is not revealed), and a member whose
role lacks the permission gets a 403. Permissions given to a user directly or through other
groups count for superusers only: everyone else acts through a role in a municipality.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import Municipality, Role, RoleGroup

_CACHE_ATTR = "_threshold_access"


class _UserAccess:
    """Everything a page asks about who the user is, read in two queries once per request:
    the memberships (with what the second-factor middleware needs: whether the user has an
    authenticator, which municipalities require one of officials), then the roles'
    permissions. The middleware, the views' checks and the header all read this."""

    def __init__(self, user):
        self.is_superuser = user.is_active and user.is_superuser
        self.roles: dict[int, str] = {}
        self.municipality_names: dict[int, str] = {}
        self.two_factor_municipalities: set[int] = set()
        self.has_authenticator = False
        self.role_perms: dict[str, frozenset[str]] = {}
        if not user.is_authenticated or not user.is_active:
            return
        # From the user, so that a user without membership still gets one row.
        rows = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .annotate(
                has_authenticator=Exists(
                    TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
                )
            )
            .values_list(
                "has_authenticator",
                "memberships__municipality_id",
                "memberships__role",
                "memberships__municipality__name",
                "memberships__municipality__require_two_factor_for_officials",
            )
        )
        for has_authenticator, municipality_id, role, name, requires_two_factor in rows:
            self.has_authenticator = has_authenticator
            if municipality_id is None:
                continue
            self.roles[municipality_id] = role
            self.municipality_names[municipality_id] = name
            if requires_two_factor:
                self.two_factor_municipalities.add(municipality_id)
        perms: dict[str, set[str]] = {role: set() for role in self.roles.values()}
        rows = RoleGroup.objects.filter(role__in=perms).values_list(
            "role", "group__permissions__content_type__app_label", "group__permissions__codename"
        )
        for role, app_label, codename in rows:
            if codename:
                perms[role].add(f"{app_label}.{codename}")
        self.role_perms = {role: frozenset(p) for role, p in perms.items()}


def _access(user) -> _UserAccess:
    # Cached on the user object, which lives for one request (request.user).
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _UserAccess(user)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def municipality_ids(user, perm: str | None = None) -> list[int] | None:
    """The municipalities whose records the user may see (where the user's role has `perm`,
    when given); None means all (superuser)."""
    access = _access(user)
    if access.is_superuser:
        return None
    return [
        municipality_id
        for municipality_id, role in access.roles.items()
        if perm is None or perm in access.role_perms.get(role, frozenset())
    ]


def scope(queryset, user, field: str = "municipality", *, perm: str | None = None):
    """Restrict a queryset to the user's municipalities (those where the user's role has
    `perm`, when given); `field` leads to the municipality."""
    ids = municipality_ids(user, perm)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": ids})


def can_somewhere(user, perm: str) -> bool:
    """Whether the user may do `perm` in at least one municipality (a menu entry, a list)."""
    ids = municipality_ids(user, perm)
    return ids is None or bool(ids)


def role_in(user, municipality_id: int) -> str | None:
    return _access(user).roles.get(municipality_id)


def is_superuser(user) -> bool:
    return _access(user).is_superuser


def memberships(user) -> list[tuple[str, Role]]:
    """(municipality name, role) of each of the user's memberships, by municipality name;
    read from the same cached query as the permission checks."""
    access = _access(user)
    return sorted(
        (access.municipality_names[municipality_id], Role(role))
        for municipality_id, role in access.roles.items()
    )


def second_factor_facts(user) -> tuple[bool, list[Role]]:
    """Whether the user has a confirmed authenticator, and the user's roles in the
    municipalities that require a second factor of their officials (core.two_factor decides
    from these which step is pending), from the same cached query as the checks."""
    access = _access(user)
    roles = [Role(access.roles[m]) for m in sorted(access.two_factor_municipalities)]
    return access.has_authenticator, roles


def can(user, municipality_id: int, perm: str) -> bool:
    """Whether the user may do `perm` (e.g. "inspections.add_visit") in that municipality."""
    access = _access(user)
    if access.is_superuser:
        return True
    role = access.roles.get(municipality_id)
    return role is not None and perm in access.role_perms.get(role, frozenset())


def check(user, municipality_id: int, perm: str | None) -> None:
    """404 outside the user's municipalities, 403 when the role lacks `perm`."""
    access = _access(user)
    if not access.is_superuser and municipality_id not in access.roles:
        raise Http404("No such record.")
    if perm is not None and not can(user, municipality_id, perm):
        raise PermissionDenied("Your role does not allow this.")


def user_municipalities(user):
    return scope(Municipality.objects.all(), user, field="id")
