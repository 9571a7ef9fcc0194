"""The foundation every other app stands on: municipalities, who works in them in which
role, and the audit trail of every state change.

These models were first defined in the permits app; they keep its database tables
(`db_table`), so a database created before the move migrates forward without a data change.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


class SigningCertificate(models.Model):
    """The certificate (PKCS#12: key and certificate chain) with which a municipality's
    permits and notices of revocation are digitally signed (core.signing).

    The file and its password are stored encrypted (Fernet, settings.SIGNING_KEY) and never
    leave the server: the admin shows only the certificate's names and expiry below, taken
    from it when it is uploaded."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="signing_certificate"
    )
    encrypted_pkcs12 = models.BinaryField(editable=False)
    encrypted_password = models.BinaryField(editable=False)
    subject = models.CharField(max_length=500, editable=False)
    # The signer shown on the public verification page: the subject's common name and
    # organisation.
    common_name = models.CharField(max_length=200, blank=True, editable=False)
    organisation = models.CharField(max_length=200, blank=True, editable=False)
    issuer = models.CharField(max_length=500, editable=False)
    not_valid_after = models.DateTimeField("valid until", editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["municipality__name"]

    def __str__(self) -> str:
        return f"Signing certificate of {self.municipality}: {self.common_name or self.subject}"


class DocumentSignature(models.Model):
    """Who signed an issued document, found by the SHA-256 of the signed file (the digest
    stored with the permit or notice): written when it is signed, in the transaction that
    issues it (an issued permit's row cannot be changed afterwards). The signature itself is
    in the file; this is what the public verification page says about it.

    `unsigned_sha256` is the digest of the document as rendered, before the signature was
    appended: re-rendering an issued document from what is stored gives these bytes, which
    are also the signed file's first bytes (the signature is an incremental update)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField("SHA-256 of the signed document", max_length=64, unique=True)
    unsigned_sha256 = models.CharField("SHA-256 of the document before signing", max_length=64)
    unsigned_length = models.PositiveIntegerField()
    signer_common_name = models.CharField(max_length=200, blank=True)
    signer_organisation = models.CharField(max_length=200, blank=True)
    certificate_subject = models.CharField(max_length=500)
    certificate_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Signed by {self.signer} ({self.sha256[:12]}…)"

    @property
    def signer(self) -> str:
        """The certificate's common name, and its organisation unless the name says it."""
        name, organisation = self.signer_common_name, self.signer_organisation
        if name and organisation and organisation not in name:
            return f"{name}, {organisation}"
        return name or organisation or self.certificate_subject


class DeliveryKind(models.TextChoices):
    """What an e-mail is for (issue 17 adds request confirmations and result notices)."""

    CLOSE_DOCUMENTS = "close_documents", "Documents of a closed visit"
    # Inspection requests (scheduling.notifications): to the e-mail given with the request.
    REQUEST_CONFIRMED = "request_confirmed", "Inspection request confirmed"
    REQUEST_MOVED = "request_moved", "Inspection request moved"
    REQUEST_DECLINED = "request_declined", "Inspection request declined"
    REQUEST_RESULT = "request_result", "Result of a requested inspection"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One outgoing e-mail and what became of it. Written when the mail is asked for and
    sent by a background job (core.mail, core.tasks), never by a request; the job records
    each attempt's outcome here, and the application's history shows it.

    `attachments` lists stored documents, not their bytes: `[{"name": <file name in
    storage>, "filename": <name in the mail>, "sha256": <digest recorded for the file>}]`.
    The job reads each file when it sends and refuses one whose digest no longer matches."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    # Named, not imported: core never imports the apps above it (as Activity).
    application = models.ForeignKey(
        "permits.Application",
        on_delete=models.PROTECT,
        related_name="deliveries",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=30, choices=DeliveryKind)
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A short reason a person can act on ("connection refused"), never a traceback.
    last_error = models.CharField(max_length=300, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Who asked for it (the inspector who closed, the clerk who pressed Resend).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resend_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="resends"
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["application", "-queued_at"], name="delivery_application_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=DeliveryKind.values), name="delivery_kind_valid"
            ),
            # Sent means sent at a known time; nothing else has one.
            models.CheckConstraint(
                condition=models.Q(status=DeliveryStatus.SENT, sent_at__isnull=False)
                | (~models.Q(status=DeliveryStatus.SENT) & models.Q(sent_at__isnull=True)),
                name="delivery_sent_at_iff_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.get_status_display()})"

    @property
    def is_queued(self) -> bool:
        return self.status == DeliveryStatus.QUEUED

    @property
    def is_sent(self) -> bool:
        return self.status == DeliveryStatus.SENT

    @property
    def is_failed(self) -> bool:
        return self.status == DeliveryStatus.FAILED


class Profile(models.Model):
    """A user's own settings. `language` empty: the browser's language (Accept-Language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: the language your browser asks for."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)
