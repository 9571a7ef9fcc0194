"""The foundation every other app stands on: municipalities, who works in them in which
role, and the audit trail of every state change.

These models were first defined in the permits app; they keep its database tables
(`db_table`), so a database created before the move migrates forward without a data change.
"""

import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Now
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult


class Province(models.TextChoices):
    AB = "AB", _("Alberta")
    BC = "BC", _("British Columbia")
    MB = "MB", _("Manitoba")
    NB = "NB", _("New Brunswick")
    NL = "NL", _("Newfoundland and Labrador")
    NS = "NS", _("Nova Scotia")
    NT = "NT", _("Northwest Territories")
    NU = "NU", _("Nunavut")
    ON = "ON", _("Ontario")
    PE = "PE", _("Prince Edward Island")
    QC = "QC", _("Quebec")
    SK = "SK", _("Saskatchewan")
    YT = "YT", _("Yukon")


class Municipality(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    # The defaults are data (the municipality's own words, printed on its permits).
    department_name = models.CharField(
        _("department name"), max_length=200, default="Building Department"
    )
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=2, choices=Province, default=Province.ON)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    chief_building_official = models.CharField(
        _("chief building official"), max_length=200, blank=True
    )
    chief_building_official_title = models.CharField(
        _("chief building official title"),
        max_length=200,
        blank=True,
        default="Chief Building Official",
    )
    letterhead_logo = models.ImageField(_("letterhead logo"), upload_to="logos/", blank=True)
    require_two_factor_for_officials = models.BooleanField(
        _("require a second factor for officials"),
        default=False,
        help_text=_(
            "Require a second factor (authenticator app) for municipal administrators and "
            "chief building officials."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "permits_municipality"
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What a member may do in one municipality. Each role is backed by a Django group that
    holds the role's permissions (RoleGroup; see core.access)."""

    INSPECTOR = "inspector", _("Inspector")
    CLERK = "clerk", _("Clerk")
    VIEWER = "viewer", _("Viewer")
    CHIEF_BUILDING_OFFICIAL = "chief_building_official", _("Chief building official")
    MUNICIPAL_ADMIN = "municipal_admin", _("Municipal administrator")


class RoleGroup(models.Model):
    """The Django group whose permissions a role has, matched by the role's value: renaming
    the group (or the role's label) changes nothing. The group's permissions are edited in
    the admin by the platform operator; they apply in every municipality."""

    role = models.CharField(_("role"), max_length=30, choices=Role, unique=True)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="role", verbose_name=_("group")
    )

    class Meta:
        ordering = ["role"]
        verbose_name = _("role group")
        verbose_name_plural = _("role groups")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="rolegroup_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.group}"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("municipality"),
    )
    role = models.CharField(_("role"), max_length=30, choices=Role)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "permits_membership"
        ordering = ["municipality__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality"], name="membership_one_role_per_municipality"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s – %(role)s at %(municipality)s") % {
            "user": self.user,
            "role": self.get_role_display(),
            "municipality": self.municipality,
        }


class Activity(models.Model):
    """Audit trail: one entry for every state change, who made it and when."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="activities",
        null=True,
        verbose_name=_("municipality"),
    )
    # Empty for changes of configuration (e.g. a permit template saved). Named, not
    # imported: core never imports the apps above it.
    application = models.ForeignKey(
        "permits.Application",
        on_delete=models.PROTECT,
        related_name="activities",
        null=True,
        blank=True,
        verbose_name=_("application"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("actor"),
    )
    verb = models.CharField(_("verb"), max_length=60)
    summary = models.CharField(_("summary"), max_length=300)
    # Field by field, what an administrator changed: {"field": ["old", "new"]}, shown in
    # full in the audit trail where the summary has to shorten.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        db_table = "permits_activity"
        ordering = ["-at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
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
        Municipality,
        on_delete=models.CASCADE,
        related_name="signing_certificate",
        verbose_name=_("municipality"),
    )
    encrypted_pkcs12 = models.BinaryField(_("encrypted PKCS#12 file"), editable=False)
    encrypted_password = models.BinaryField(_("encrypted password"), editable=False)
    subject = models.CharField(_("subject"), max_length=500, editable=False)
    # The signer shown on the public verification page: the subject's common name and
    # organisation.
    common_name = models.CharField(_("common name"), max_length=200, blank=True, editable=False)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True, editable=False)
    issuer = models.CharField(_("issuer"), max_length=500, editable=False)
    not_valid_after = models.DateTimeField(_("valid until"), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["municipality__name"]
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")

    def __str__(self) -> str:
        return gettext("Signing certificate of %(municipality)s: %(name)s") % {
            "municipality": self.municipality,
            "name": self.common_name or self.subject,
        }


class DocumentSignature(models.Model):
    """Who signed an issued document, found by the SHA-256 of the signed file (the digest
    stored with the permit or notice): written when it is signed, in the transaction that
    issues it (an issued permit's row cannot be changed afterwards). The signature itself is
    in the file; this is what the public verification page says about it.

    `unsigned_sha256` is the digest of the document as rendered, before the signature was
    appended: re-rendering an issued document from what is stored gives these bytes, which
    are also the signed file's first bytes (the signature is an incremental update)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    sha256 = models.CharField(_("SHA-256 of the signed document"), max_length=64, unique=True)
    unsigned_sha256 = models.CharField(_("SHA-256 of the document before signing"), max_length=64)
    unsigned_length = models.PositiveIntegerField(_("unsigned length"))
    signer_common_name = models.CharField(_("signer common name"), max_length=200, blank=True)
    signer_organisation = models.CharField(_("signer organisation"), max_length=200, blank=True)
    certificate_subject = models.CharField(_("certificate subject"), max_length=500)
    certificate_sha256 = models.CharField(_("certificate sha256"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = _("document signature")
        verbose_name_plural = _("document signatures")

    def __str__(self) -> str:
        return gettext("Signed by %(signer)s (%(digest)s…)") % {
            "signer": self.signer,
            "digest": self.sha256[:12],
        }

    @property
    def signer(self) -> str:
        """The certificate's common name, and its organisation unless the name says it."""
        name, organisation = self.signer_common_name, self.signer_organisation
        if name and organisation and organisation not in name:
            return f"{name}, {organisation}"
        return name or organisation or self.certificate_subject


class DeliveryKind(models.TextChoices):
    """What an e-mail is for (issue 17 adds request confirmations and result notices)."""

    CLOSE_DOCUMENTS = "close_documents", _("Documents of a closed visit")
    # Inspection requests (scheduling.notifications): to the e-mail given with the request.
    REQUEST_CONFIRMED = "request_confirmed", _("Inspection request confirmed")
    REQUEST_MOVED = "request_moved", _("Inspection request moved")
    REQUEST_DECLINED = "request_declined", _("Inspection request declined")
    REQUEST_CANCELLED = "request_cancelled", _("Inspection request cancelled")
    REQUEST_RESULT = "request_result", _("Result of a requested inspection")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("e-mail status", "Queued")
    SENT = "sent", pgettext_lazy("e-mail status", "Sent")
    FAILED = "failed", pgettext_lazy("e-mail status", "Failed")


# Stored on the delivery and the history (in English, like every last_error).
ATTEMPT_INTERRUPTED = "the sending attempt was interrupted (the job worker stopped)"
JOB_LOST = "no job was left to send it (its job was lost)"
# The send job's path as the job queue stores it (core.tasks imports this module).
DELIVERY_SEND_TASK = "core.tasks.delivery_send"


def delivery_attempt_stale_after() -> datetime.timedelta:
    """How long after its claim an attempt still without an outcome is taken as abandoned:
    the worker running it stopped (a live attempt ends far sooner, see settings); and how
    long a queued delivery may wait for its job to appear or start before it is taken as
    lost."""
    return datetime.timedelta(minutes=settings.DELIVERY_ATTEMPT_STALE_MINUTES)


def live_jobs(task_path: str, *, running_since: datetime.datetime):
    """The jobs of `task_path` a worker will still run, with their first argument as text
    (`first_arg`): READY (a worker will take it, deferred or not) or RUNNING since
    `running_since` (a worker took it a moment ago and is about to claim its work; a worker
    killed leaves its job RUNNING for good). The one rule of a live job, for every record
    whose job may be lost (a Delivery, exchange's ImportRun).

    Arguments compared as text: the same on PostgreSQL (->>) and SQLite (json_extract), and
    no cast of other jobs' arguments to a number. The live-job index (core 0013: task_path,
    only READY and RUNNING rows) serves it on PostgreSQL, which proves each branch of the OR
    within the index's condition: the time does not grow with the finished jobs kept. Keep
    every branch to READY or RUNNING, or this reads them all again."""
    return DBTaskResult.objects.filter(
        models.Q(status=TaskResultStatus.READY)
        | models.Q(status=TaskResultStatus.RUNNING, started_at__gt=running_since),
        task_path=task_path,
    ).alias(first_arg=Cast(KT("args_kwargs__args__0"), models.TextField()))


def _stranded(older_than: datetime.timedelta | None) -> models.Q:
    """The one rule of a stranded delivery (see DeliveryQuerySet.stranded)."""
    if older_than is None:
        older_than = delivery_attempt_stale_after()
    since = timezone.now() - older_than
    # A job that will send it: one for its next attempt (delivery_send(pk) is attempt 1,
    # a retry names attempt=n), compared as text (see live_jobs).
    live_job = (
        live_jobs(DELIVERY_SEND_TASK, running_since=since)
        .alias(
            attempt_arg=Coalesce(
                Cast(KT("args_kwargs__kwargs__attempt"), models.TextField()),
                models.Value("1", output_field=models.TextField()),
            ),
        )
        .filter(
            first_arg=Cast(models.OuterRef("pk"), models.TextField()),
            attempt_arg=Cast(models.OuterRef("attempts") + 1, models.TextField()),
        )
    )
    interrupted = models.Q(attempt_started_at__lte=since)
    unclaimed_a_while = models.Q(attempt_started_at__isnull=True, last_queued_at__lte=since)
    lost = unclaimed_a_while & ~models.Exists(live_job)
    return models.Q(status=DeliveryStatus.QUEUED) & (interrupted | lost)


class DeliveryQuerySet(models.QuerySet):
    def stranded(self, *, older_than: datetime.timedelta | None = None):
        """Queued deliveries that no live job will send (`older_than`: default
        delivery_attempt_stale_after(); 0 when no worker runs):

        - interrupted: its attempt was claimed more than `older_than` ago and never ended
          (the worker died mid-attempt);
        - lost: no attempt under way, queued (or queued again) more than `older_than` ago,
          and no job for its next attempt is waiting or starting (its job row was deleted;
          the worker that took it died before the claim; a worker died between a failed
          attempt and the retry's enqueue; a row older than attempt_started_at).

        Nothing else will ever send such a delivery: recover_deliveries queues it again,
        and the application's page offers Resend (Delivery.is_stranded)."""
        return self.filter(_stranded(older_than))

    def with_stranded(self):
        """Each delivery with `stranded_now` (the rule above, in the same query), which
        Delivery.is_stranded reads instead of asking the database row by row."""
        return self.annotate(
            stranded_now=models.ExpressionWrapper(_stranded(None), models.BooleanField())
        )

    def list_with_stranded(self) -> list["Delivery"]:
        """These deliveries as a list, each with `stranded_now` as with_stranded() gives it,
        but the rule asked only of the queued ones, in a second query when there are any.

        For a page that lists deliveries (the Work view's History): most applications have
        none queued, and building and compiling the rule's annotation (a correlated EXISTS on
        the job table with JSON casts) cost more Python than the rest of the list (issue 16:
        about a fifth of a Work view's CPU). Only a queued delivery can be stranded."""
        deliveries = list(self)
        queued = [delivery.pk for delivery in deliveries if delivery.is_queued]
        stranded = (
            set(
                self.model.objects.using(self.db)
                .filter(pk__in=queued)
                .stranded()
                .values_list("pk", flat=True)
            )
            if queued
            else set()
        )
        for delivery in deliveries:
            delivery.stranded_now = delivery.pk in stranded
        return deliveries


class Delivery(models.Model):
    """One outgoing e-mail and what became of it. Written when the mail is asked for and
    sent by a background job (core.mail, core.tasks), never by a request; the job records
    each attempt's outcome here, and the application's history shows it.

    `attachments` lists stored documents, not their bytes: `[{"name": <file name in
    storage>, "filename": <name in the mail>, "sha256": <digest recorded for the file>}]`.
    The job reads each file when it sends and refuses one whose digest no longer matches."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    # Named, not imported: core never imports the apps above it (as Activity).
    application = models.ForeignKey(
        "permits.Application",
        on_delete=models.PROTECT,
        related_name="deliveries",
        null=True,
        blank=True,
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DeliveryKind)
    recipient = models.EmailField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A short reason a person can act on ("connection refused"), never a traceback. Stored
    # text, in English (the operator's language, like the log).
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    # When its latest job was asked for: when it was queued, when a failed attempt queued
    # the next, when recover_deliveries queued it again. Its job should exist and start
    # soon after; long after it, with none, the delivery is stranded (job lost).
    # db_default too: the previous release's code, still running during a rolling upgrade
    # (docs/deploying.md), inserts deliveries without this column.
    last_queued_at = models.DateTimeField(
        _("last queued at"), default=timezone.now, db_default=Now()
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # When the attempt under way was claimed by a job; empty when none is. Still set long
    # after the claim on a queued delivery: the worker died mid-attempt (is_stranded).
    attempt_started_at = models.DateTimeField(_("attempt started at"), null=True, blank=True)
    # Who asked for it (the inspector who closed, the clerk who pressed Resend).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    resend_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resends",
        verbose_name=_("resend of"),
    )

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
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
        return gettext("%(kind)s to %(recipient)s (%(status)s)") % {
            "kind": self.get_kind_display(),
            "recipient": self.recipient,
            "status": self.get_status_display(),
        }

    @property
    def is_queued(self) -> bool:
        return self.status == DeliveryStatus.QUEUED

    @property
    def is_sent(self) -> bool:
        return self.status == DeliveryStatus.SENT

    @property
    def is_failed(self) -> bool:
        return self.status == DeliveryStatus.FAILED

    @cached_property
    def is_stranded(self) -> bool:
        """Queued, and no live job will send it (DeliveryQuerySet.stranded): its attempt was
        cut off, or its job was lost. Read from with_stranded() or list_with_stranded() when
        the list asked for it, else from the database for a queued delivery."""
        if not self.is_queued:
            return False
        if hasattr(self, "stranded_now"):
            return bool(self.stranded_now)  # SQL says NULL, not false, for an empty claim time
        return type(self).objects.filter(pk=self.pk).stranded().exists()

    @property
    def stranded_reason(self) -> str:
        """Why a stranded delivery was not sent, as its last error and history say it."""
        return ATTEMPT_INTERRUPTED if self.attempt_started_at else JOB_LOST

    @property
    def may_be_resent(self) -> bool:
        """Resend is refused only while the mail may still be sent by its own job."""
        return not self.is_queued or self.is_stranded


class Profile(models.Model):
    """A user's own settings. `language` empty: the browser's language (Accept-Language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
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
