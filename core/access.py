"""Who may see and do what, scoped to the user's municipalities.

Membership says *where* a user works and in which role; the Django group linked to the role
(core.RoleGroup, by the role's value) says *what* that role may do (its permissions, editable
in the admin by the platform operator). Every view loads objects through an access helper:
another municipality's object is a 404 (its existence is not revealed), and a member whose
role lacks the permission gets a 403. Permissions given to a user directly or through other
groups count for superusers only: everyone else acts through a role in a municipality.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models.expressions import Col
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import Membership, Municipality, Role, RoleGroup

_CACHE_ATTR = "_threshold_access"


class _UserAccess:
    """Everything a page asks about who the user is, read once per request in one query
    (`_read`): the memberships, with what the second-factor middleware needs (whether the
    user has an authenticator, which municipalities require one of officials), and the
    roles' permissions. The middleware, the views' checks and the header all read this."""

    def __init__(self, user, rows=None):
        self.is_superuser = user.is_active and user.is_superuser
        self.roles: dict[int, str] = {}
        self.municipality_names: dict[int, str] = {}
        self.two_factor_municipalities: set[int] = set()
        self.has_authenticator = False
        self.role_perms: dict[str, frozenset[str]] = {}
        if not user.is_authenticated or not user.is_active:
            return
        if rows is None:
            _, rows = _read(user.pk, with_user=False)
        perms: dict[str, set[str]] = {}
        for has_authenticator, municipality_id, role, name, requires_two_factor, perm in rows:
            self.has_authenticator = bool(has_authenticator)
            if municipality_id is None:
                continue
            self.roles[municipality_id] = role
            self.municipality_names[municipality_id] = name
            if requires_two_factor:
                self.two_factor_municipalities.add(municipality_id)
            perms.setdefault(role, set())
            if perm:
                perms[role].add(perm)
        self.role_perms = {role: frozenset(p) for role, p in perms.items()}


def _read(user_id, *, with_user: bool) -> tuple[list | None, list[tuple]]:
    """The user's row (when `with_user`) and, a row per membership and permission of its
    role, (has an authenticator, municipality id, role, municipality name, whether it
    requires a second factor of officials, "app_label.codename" or None): one statement.

    Written in SQL because the role's group is found by the role's value (core.RoleGroup),
    which the ORM cannot join on, and because this runs on every request: as two ORM
    queries (memberships, then the roles' permissions) after the user's own, it was three
    round trips and two query compilations per page (issue 16)."""
    sql, width = _access_sql(connection.vendor, with_user)
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, user_id])
        fetched = cursor.fetchall()
    if not fetched:
        return None, []
    rows = [
        (*row[width : width + 5], f"{row[width + 5]}.{row[width + 6]}" if row[width + 6] else None)
        for row in fetched
    ]
    return (list(fetched[0][:width]) if with_user else None), rows


@functools.cache
def _access_sql(vendor: str, with_user: bool) -> tuple[str, int]:
    """`_read`'s statement for this database, and how many user columns lead its rows. The
    table and column names are the models' own, so the statement follows a renamed one."""
    user_model = get_user_model()
    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    def pk(model):
        return quote(model._meta.pk.column)

    group_permissions = Group.permissions.through
    user_columns = [f"u.{quote(f.column)}" for f in user_model._meta.concrete_fields]
    sql = f"""
        SELECT {", ".join(user_columns) + "," if with_user else ""}
            EXISTS(
                SELECT 1 FROM {table(TOTPDevice)} d
                WHERE d.{column(TOTPDevice, "user")} = u.{pk(user_model)}
                    AND d.{column(TOTPDevice, "confirmed")} = %s
            ),
            m.{column(Membership, "municipality")},
            m.{column(Membership, "role")},
            mu.{column(Municipality, "name")},
            mu.{column(Municipality, "require_two_factor_for_officials")},
            ct.{column(ContentType, "app_label")},
            p.{column(Permission, "codename")}
        FROM {table(user_model)} u
        LEFT JOIN {table(Membership)} m ON m.{column(Membership, "user")} = u.{pk(user_model)}
        LEFT JOIN {table(Municipality)} mu
            ON mu.{pk(Municipality)} = m.{column(Membership, "municipality")}
        LEFT JOIN {table(RoleGroup)} rg
            ON rg.{column(RoleGroup, "role")} = m.{column(Membership, "role")}
        LEFT JOIN {table(group_permissions)} gp
            ON gp.{column(group_permissions, "group")} = rg.{column(RoleGroup, "group")}
        LEFT JOIN {table(Permission)} p
            ON p.{pk(Permission)} = gp.{column(group_permissions, "permission")}
        LEFT JOIN {table(ContentType)} ct
            ON ct.{pk(ContentType)} = p.{column(Permission, "content_type")}
        WHERE u.{pk(user_model)} = %s
    """
    return sql, (len(user_columns) if with_user else 0)


def user_with_access(user_id):
    """The user (None if there is none) with what `_access` would read about it, from one
    query: for the authentication backend, which loads request.user on every request."""
    user_model = get_user_model()
    values, rows = _read(user_model._meta.pk.to_python(user_id), with_user=True)
    if values is None:
        return None
    fields = user_model._meta.concrete_fields
    # What the ORM would do with each column (SQLite's dates come back as text, say).
    for index, field in enumerate(fields):
        column = Col(user_model._meta.db_table, field)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            values[index] = converter(values[index], column, connection)
    user = user_model.from_db(connection.alias, [f.attname for f in fields], values)
    setattr(user, _CACHE_ATTR, _UserAccess(user, rows))
    return user


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
