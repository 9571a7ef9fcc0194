"""The foundation every other app stands on: municipalities, who works in them in which
role, and the audit trail of every state change.

These models were first defined in the permits app; they keep its database tables
(`db_table`), so a database created before the move migrates forward without a data change.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone


class Province(models.TextChoices):
    AB = "AB", "Alberta"
    BC = "BC", "British Columbia"
    MB = "MB", "Manitoba"
    NB = "NB", "New Brunswick"
    NL = "NL", "Newfoundland and Labrador"
    NS = "NS", "Nova Scotia"
    NT = "NT", "Northwest Territories"
    NU = "NU", "Nunavut"
    ON = "ON", "Ontario"
    PE = "PE", "Prince Edward Island"
    QC = "QC", "Quebec"
    SK = "SK", "Saskatchewan"
    YT = "YT", "Yukon"


class Municipality(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200, unique=True)
    department_name = models.CharField(max_length=200, default="Building Department")
    street_address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    province = models.CharField(max_length=2, choices=Province, default=Province.ON)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    chief_building_official = models.CharField(max_length=200, blank=True)
    chief_building_official_title = models.CharField(
        max_length=200, blank=True, default="Chief Building Official"
    )
    letterhead_logo = models.ImageField(upload_to="logos/", blank=True)
    require_two_factor_for_officials = models.BooleanField(
        "require a second factor for officials",
        default=False,
        help_text=(
            "Require a second factor (authenticator app) for municipal administrators and "
            "chief building officials."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "permits_municipality"
        ordering = ["name"]
        verbose_name_plural = "municipalities"

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What a member may do in one municipality. Each role is backed by a Django group that
    holds the role's permissions (RoleGroup; see core.access)."""

    INSPECTOR = "inspector", "Inspector"
    CLERK = "clerk", "Clerk"
    VIEWER = "viewer", "Viewer"
    CHIEF_BUILDING_OFFICIAL = "chief_building_official", "Chief building official"
    MUNICIPAL_ADMIN = "municipal_admin", "Municipal administrator"


class RoleGroup(models.Model):
    """The Django group whose permissions a role has, matched by the role's value: renaming
    the group (or the role's label) changes nothing. The group's permissions are edited in
    the admin by the platform operator; they apply in every municipality."""

    role = models.CharField(max_length=30, choices=Role, unique=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="role")

    class Meta:
        ordering = ["role"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="rolegroup_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.group}"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=Role)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "permits_membership"
        ordering = ["municipality__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality"], name="membership_one_role_per_municipality"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.municipality}"


class Activity(models.Model):
    """Audit trail: one entry for every state change, who made it and when."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="activities", null=True
    )
    # Empty for changes of configuration (e.g. a permit template saved). Named, not
    # imported: core never imports the apps above it.
    application = models.ForeignKey(
        "permits.Application",
        on_delete=models.PROTECT,
        related_name="activities",
        null=True,
        blank=True,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    verb = models.CharField(max_length=60)
    summary = models.CharField(max_length=300)
    # Field by field, what an administrator changed: {"field": ["old", "new"]}, shown in
    # full in the audit trail where the summary has to shorten.
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "permits_activity"
        ordering = ["-at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["application", "-at"], name="activity_application_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb}: {self.summary}"
