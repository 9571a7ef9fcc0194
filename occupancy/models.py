import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Municipality
from core.text_limits import BoundedTextField, max_length_constraint
from inspections.models import GRANT_RESULTS, InspectionType, Visit, VisitResult
from permits.models import Application, WorkType

# Free text that is printed on a permit or a notice, or that a permit is rendered from
# (core.text_limits: the form, the database and the page all hold these).
PERMIT_DESCRIPTION_MAX_LENGTH = 2000
REVOCATION_REASON_MAX_LENGTH = 5000
# A template renders within its budget (occupancy.template_sandbox) and the editor refuses a
# body over 200,000 characters or a stylesheet over 200 KB with its own message
# (template_validation, admin_forms). These are the database's backstop above those, for
# what does not come through the editor (plain TextFields: the editor's help text need not
# state them); the shipped templates are about 6,000 characters.
TEMPLATE_BODY_MAX_LENGTH = 250_000
TEMPLATE_STYLESHEET_MAX_LENGTH = 250_000


class PermitKind(models.TextChoices):
    GENERAL = "general", _("General (full occupancy)")
    PARTIAL = "partial", _("Partial occupancy")
    TEMPORARY = "temporary", _("Temporary occupancy")


class PermitLanguage(models.TextChoices):
    """The language a permit type issues in; a bilingual permit prints both texts on one
    document, English first (its main language)."""

    ENGLISH = "en-ca", _("English")
    FRENCH = "fr-ca", _("French")
    BILINGUAL = "bilingual", _("Bilingual (English and French)")


def permit_main_language(language: str) -> str:
    """The language code (settings.LANGUAGES) a permit of `language` is rendered in:
    French for a French permit, English otherwise (a bilingual permit's first text)."""
    return PermitLanguage.FRENCH.value if language == PermitLanguage.FRENCH else "en-ca"


class OccupancyPermitType(models.Model):
    """A kind of occupancy permit a municipality issues, with its numbering.

    The number format takes the tokens {prefix}, {year} and {seq} (with a width, e.g.
    {seq:04}). Types with the same sequence key share one sequence of numbers.
    """

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="occupancy_permit_types",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=20, choices=PermitKind, default=PermitKind.GENERAL
    )
    # The permit's language is part of the issued record (OccupancyPermit.language).
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=PermitLanguage,
        default=PermitLanguage.ENGLISH,
        help_text=_(
            "The language of the permits of this type: English, French, or both texts on "
            "one document. Its templates are written in it."
        ),
    )
    prefix = models.CharField(_("prefix"), max_length=20, default="OCC")
    number_format = models.CharField(
        _("number format"), max_length=60, default="{prefix}-{year}-{seq:04}"
    )
    sequence_key = models.SlugField(
        _("sequence key"),
        max_length=40,
        default="occupancy",
        help_text=_("Types with the same key share one sequence of numbers."),
    )
    restart_each_year = models.BooleanField(_("restart each year"), default=True)
    needs_portion_of_building = models.BooleanField(_("needs portion of building"), default=False)
    needs_expiry_date = models.BooleanField(_("needs expiry date"), default=False)
    needs_required_inspections = models.BooleanField(
        _("needs the required inspections passed"),
        default=True,
        help_text=_(
            "Off for a permit that authorizes occupancy before completion (OBC Div. C "
            "1.3.3.1): the checklist of conditions is then what is verified."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["municipality", "name"]
        verbose_name = _("occupancy permit type")
        verbose_name_plural = _("occupancy permit types")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="permit_type_name_unique_per_municipality"
            ),
            # Only a permit for occupancy before completion (OBC Div. C 1.3.3.1) may be issued
            # before the required inspections passed: never a general (full) one.
            models.CheckConstraint(
                condition=~Q(kind=PermitKind.GENERAL) | Q(needs_required_inspections=True),
                name="permit_type_general_needs_required_inspections",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PermitKind.values), name="permit_type_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(language__in=PermitLanguage.values), name="permit_type_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OccupancyCondition(models.Model):
    """One condition of a permit type's occupancy checklist (e.g. OBC Div. C 1.3.3.4.(4)(d),
    the required electrical supply is provided). The inspector marks each Met or Not
    applicable on the occupancy visit; the permit lists the conditions verified."""

    permit_type = models.ForeignKey(
        OccupancyPermitType,
        on_delete=models.CASCADE,
        related_name="conditions",
        verbose_name=_("permit type"),
    )
    clause = models.CharField(_("clause"), max_length=60, help_text=_("e.g. Div. C 1.3.3.4.(4)(d)"))
    text = models.CharField(
        _("text"), max_length=400, help_text=_("The condition, as the inspector checks it.")
    )
    display_order = models.PositiveSmallIntegerField(_("display order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("occupancy condition")
        verbose_name_plural = _("occupancy conditions")
        ordering = ["permit_type", "display_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["permit_type", "clause"], name="occupancy_condition_clause_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clause}: {self.text}"


class RequiredInspection(models.Model):
    """An inspection that must have passed before occupancy is granted, for applications of
    one work type in one municipality (e.g. Plumbing rough-in for New construction)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="required_inspections",
        verbose_name=_("municipality"),
    )
    work_type = models.CharField(_("work type"), max_length=20, choices=WorkType)
    inspection_type = models.ForeignKey(
        InspectionType,
        on_delete=models.CASCADE,
        related_name="required_before_occupancy",
        verbose_name=_("inspection type"),
    )

    class Meta:
        ordering = ["municipality", "work_type", "inspection_type__display_order"]
        verbose_name = _("inspection required before occupancy")
        verbose_name_plural = _("inspections required before occupancy")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "work_type", "inspection_type"],
                name="required_inspection_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_type} before occupancy of {self.get_work_type_display()}"


class OccupancyPermitTemplate(models.Model):
    """The PDF layout an inspector picks at a grant. Every save adds a TemplateVersion;
    issued permits point at the version they were rendered with."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="occupancy_permit_templates",
        verbose_name=_("municipality"),
    )
    permit_type = models.ForeignKey(
        OccupancyPermitType,
        on_delete=models.PROTECT,
        related_name="templates",
        verbose_name=_("permit type"),
    )
    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(
        _("body"),
        max_length=TEMPLATE_BODY_MAX_LENGTH,
        help_text=_("HTML in the Django template language; its print CSS goes in the stylesheet."),
    )
    stylesheet = models.TextField(
        _("stylesheet"),
        max_length=TEMPLATE_STYLESHEET_MAX_LENGTH,
        blank=True,
        help_text=_(
            "Print CSS for this template (WeasyPrint): @page, fonts, layout. Images "
            "only as data: URIs; no @import."
        ),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("occupancy permit template")
        verbose_name_plural = _("occupancy permit templates")
        ordering = ["municipality", "name"]
        permissions = [
            ("manage_templates", "Can manage permit types, permit templates and checklists")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="permit_template_name_unique_per_municipality"
            ),
            max_length_constraint(
                "occupancy_occupancypermittemplate", "body", TEMPLATE_BODY_MAX_LENGTH
            ),
            max_length_constraint(
                "occupancy_occupancypermittemplate", "stylesheet", TEMPLATE_STYLESHEET_MAX_LENGTH
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OccupancyPermitTemplateVersion(models.Model):
    template = models.ForeignKey(
        OccupancyPermitTemplate,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("template"),
    )
    version = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("body"), max_length=TEMPLATE_BODY_MAX_LENGTH)
    # The CSS of this version, frozen with its body: issued permits re-render from both.
    stylesheet = models.TextField(
        _("stylesheet"), max_length=TEMPLATE_STYLESHEET_MAX_LENGTH, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("occupancy permit template version")
        verbose_name_plural = _("occupancy permit template versions")
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "version"], name="permit_template_version_unique"
            ),
            max_length_constraint(
                "occupancy_occupancypermittemplateversion", "body", TEMPLATE_BODY_MAX_LENGTH
            ),
            max_length_constraint(
                "occupancy_occupancypermittemplateversion",
                "stylesheet",
                TEMPLATE_STYLESHEET_MAX_LENGTH,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.version}"


class GrantDraft(models.Model):
    """What the inspector has typed for a grant on an open visit (Save draft): the template,
    the granted date, the description, the portion and the expiry. Finish and Close reads
    it back; the issued permit keeps its own copy, so the draft may change or go until then."""

    visit = models.OneToOneField(
        Visit, on_delete=models.CASCADE, related_name="grant_draft", verbose_name=_("visit")
    )
    template = models.ForeignKey(
        OccupancyPermitTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("template"),
    )
    granted_on = models.DateField(_("granted on"), null=True, blank=True)
    description = BoundedTextField(
        _("description"), max_length=PERMIT_DESCRIPTION_MAX_LENGTH, blank=True
    )
    portion_of_building = models.CharField(_("portion of building"), max_length=300, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grant draft")
        verbose_name_plural = _("grant drafts")
        constraints = [
            max_length_constraint(
                "occupancy_grantdraft", "description", PERMIT_DESCRIPTION_MAX_LENGTH
            ),
        ]

    def __str__(self) -> str:
        return f"Grant draft of {self.visit}"


class ConditionMark(models.TextChoices):
    MET = "met", _("Met")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    NOT_MET = "not_met", _("Not met")


class GrantDraftCondition(models.Model):
    """How the inspector marked one checklist condition on the visit's grant draft."""

    draft = models.ForeignKey(
        GrantDraft, on_delete=models.CASCADE, related_name="conditions", verbose_name=_("draft")
    )
    condition = models.ForeignKey(
        OccupancyCondition, on_delete=models.CASCADE, related_name="+", verbose_name=_("condition")
    )
    mark = models.CharField(_("mark"), max_length=20, choices=ConditionMark)

    class Meta:
        verbose_name = _("grant draft condition")
        verbose_name_plural = _("grant draft conditions")
        constraints = [
            models.UniqueConstraint(
                fields=["draft", "condition"], name="grant_draft_condition_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(mark__in=ConditionMark.values),
                name="grant_draft_condition_mark_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.condition.clause}: {self.get_mark_display()}"


class PermitNumberSequence(models.Model):
    """The last number issued in one sequence. Numbers are taken under a row lock in the
    same transaction that issues the permit, so a rollback never leaves a gap."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    key = models.SlugField(_("key"), max_length=40)
    year = models.PositiveSmallIntegerField(
        _("year"), help_text=_("0 for sequences that never restart.")
    )
    last_value = models.PositiveIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("permit number sequence")
        verbose_name_plural = _("permit number sequences")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "key", "year"], name="permit_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} {self.key} {self.year or ''}: {self.last_value}"


class PermitStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REVOKED = "revoked", _("Revoked")


class UndeletableQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Issued occupancy permits are legal records and are never deleted.")


class OccupancyPermit(models.Model):
    """An issued occupancy permit: a legal record. Its data is a snapshot and its PDF bytes
    are stored with their SHA-256; it is never changed nor deleted (a revocation is a
    separate record)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="occupancy_permits",
        verbose_name=_("municipality"),
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="occupancy_permits",
        verbose_name=_("application"),
    )
    visit = models.OneToOneField(
        Visit, on_delete=models.PROTECT, related_name="occupancy_permit", verbose_name=_("visit")
    )
    permit_type = models.ForeignKey(
        OccupancyPermitType,
        on_delete=models.PROTECT,
        related_name="permits",
        verbose_name=_("permit type"),
    )
    template_version = models.ForeignKey(
        OccupancyPermitTemplateVersion,
        on_delete=models.PROTECT,
        related_name="permits",
        verbose_name=_("template version"),
    )
    number = models.CharField(_("number"), max_length=60)
    result = models.CharField(_("result"), max_length=30, choices=VisitResult)
    granted_on = models.DateField(_("granted on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    description = BoundedTextField(_("description"), max_length=PERMIT_DESCRIPTION_MAX_LENGTH)
    portion_of_building = models.CharField(_("portion of building"), max_length=300, blank=True)
    snapshot = models.JSONField(
        _("snapshot"), help_text=_("Everything printed on the permit, as issued.")
    )
    pdf = models.FileField(_("pdf"), upload_to="occupancy/%Y/")
    pdf_sha256 = models.CharField(_("pdf sha256"), max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=PermitStatus, default=PermitStatus.ISSUED
    )
    # The language the permit was issued in, its type's at the time of issue (a later
    # change of the type leaves it): part of the record, frozen with it (occupancy 0011).
    language = models.CharField(
        _("language"), max_length=10, choices=PermitLanguage, default=PermitLanguage.ENGLISH
    )

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        verbose_name = _("occupancy permit")
        verbose_name_plural = _("occupancy permits")
        ordering = ["-issued_at"]
        permissions = [
            ("issue_occupancypermit", "Can issue occupancy permits"),
            ("revoke_occupancypermit", "Can revoke occupancy permits"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "number"], name="occupancy_permit_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(result__in=GRANT_RESULTS),
                name="occupancy_permit_result_is_a_grant",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PermitStatus.values), name="occupancy_permit_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(language__in=PermitLanguage.values),
                name="occupancy_permit_language_valid",
            ),
            models.CheckConstraint(
                condition=Q(pdf_sha256__regex=r"^[0-9a-f]{64}$"),
                name="occupancy_permit_has_pdf_digest",
            ),
            models.CheckConstraint(condition=~Q(pdf=""), name="occupancy_permit_has_pdf"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("granted_on")),
                name="occupancy_permit_expires_after_grant",
            ),
            max_length_constraint(
                "occupancy_occupancypermit", "description", PERMIT_DESCRIPTION_MAX_LENGTH
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_revoked(self) -> bool:
        return self.status == PermitStatus.REVOKED

    def delete(self, *args, **kwargs):
        raise PermissionError("Issued occupancy permits are legal records and are never deleted.")


class OccupancyPermitRevocation(models.Model):
    """The revocation of an issued permit: a separate record with its reason and its notice.
    The permit itself and its PDF stay exactly as issued."""

    permit = models.OneToOneField(
        OccupancyPermit,
        on_delete=models.PROTECT,
        related_name="revocation",
        verbose_name=_("permit"),
    )
    reason = BoundedTextField(_("reason"), max_length=REVOCATION_REASON_MAX_LENGTH)
    revoked_on = models.DateField(_("revoked on"))
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    notice_pdf = models.FileField(_("notice pdf"), upload_to="revocations/%Y/")
    notice_sha256 = models.CharField(_("notice sha256"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        verbose_name = _("occupancy permit revocation")
        verbose_name_plural = _("occupancy permit revocations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(notice_sha256__regex=r"^[0-9a-f]{64}$"),
                name="revocation_has_notice_digest",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="revocation_has_reason"),
            max_length_constraint(
                "occupancy_occupancypermitrevocation", "reason", REVOCATION_REASON_MAX_LENGTH
            ),
        ]

    def __str__(self) -> str:
        return f"Revocation of {self.permit}"

    def delete(self, *args, **kwargs):
        raise PermissionError("Revocations are legal records and are never deleted.")


def new_verification_token() -> str:
    # 16 random bytes (128 bits): unguessable, and not derived from the number, so the
    # public page cannot be walked through by counting.
    return secrets.token_urlsafe(16)


class PermitVerification(models.Model):
    """The public verification address of an issued permit (/v/<token>), printed with its QR
    code on the permit and on its revocation notice. A separate row, so giving a permit
    issued before verification existed its token never touches the protected permit row."""

    permit = models.OneToOneField(
        OccupancyPermit,
        on_delete=models.PROTECT,
        related_name="verification",
        verbose_name=_("permit"),
    )
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_verification_token)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("permit verification")
        verbose_name_plural = _("permit verifications")

    def __str__(self) -> str:
        return f"Verification of {self.permit}"


class LookupOutcome(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    NOT_FOUND = "not_found", _("Unknown address")


class VerificationLookup(models.Model):
    """One visit of the public verification page: when, which permit, what it showed.
    Nothing about the visitor is kept (no address, no browser)."""

    looked_up_at = models.DateTimeField(_("looked up at"), default=timezone.now, db_index=True)
    permit = models.ForeignKey(
        OccupancyPermit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verification_lookups",
        help_text=_("Empty when the address matched no permit."),
        verbose_name=_("permit"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=LookupOutcome)

    class Meta:
        verbose_name = _("verification lookup")
        verbose_name_plural = _("verification lookups")
        ordering = ["-looked_up_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=LookupOutcome.values),
                name="verification_lookup_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome=LookupOutcome.NOT_FOUND) | Q(permit__isnull=False),
                name="verification_lookup_found_has_permit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.looked_up_at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"
