"""Who may see and do what, scoped to the user's municipalities.

Membership says *where* a user works and in which role; the Django group linked to the role
(core.RoleGroup, by the role's value) says *what* that role may do (its permissions, editable
in the admin by the platform operator). Every view loads objects through an access helper:
another municipality's object is a 404 (its existence is not revealed), and a member whose
role lacks the permission gets a 403. Permissions given to a user directly or through other
groups count for superusers only: everyone else acts through a role in a municipality.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.models import Municipality, Role, RoleGroup

_CACHE_ATTR = "_threshold_access"


class _UserAccess:
    def __init__(self, user):
        self.is_superuser = user.is_active and user.is_superuser
        self.roles: dict[int, str] = {}
        self.municipality_names: dict[int, str] = {}
        self.role_perms: dict[str, frozenset[str]] = {}
        if not user.is_authenticated or not user.is_active:
            return
        for municipality_id, role, name in user.memberships.values_list(
            "municipality_id", "role", "municipality__name"
        ):
            self.roles[municipality_id] = role
            self.municipality_names[municipality_id] = name
        perms: dict[str, set[str]] = {role: set() for role in self.roles.values()}
        rows = RoleGroup.objects.filter(role__in=perms).values_list(
            "role", "group__permissions__content_type__app_label", "group__permissions__codename"
        )
        for role, app_label, codename in rows:
            if codename:
                perms[role].add(f"{app_label}.{codename}")
        self.role_perms = {role: frozenset(p) for role, p in perms.items()}


def _access(user) -> _UserAccess:
    # Cached on the user object, which lives for one request.
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
