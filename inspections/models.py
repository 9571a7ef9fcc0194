from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.codes import new_code
from core.models import Municipality
from core.text_limits import BoundedTextField, max_length_constraint
from permits.models import Application, WorkType


class InspectionKind(models.TextChoices):
    GENERAL = "general", _("General")
    OCCUPANCY = "occupancy", _("Occupancy")


class BldsInspectionType(models.TextChoices):
    """BLDS Appendix A values (InspTypeMapped) that building departments use."""

    SET_BACKS = "Set Backs"
    FOOTINGS_FORMS = "Footings & Forms"
    FOUNDATION = "Foundation"
    ROUGH_FRAME = "Rough Frame"
    FRAME = "Frame"
    FLOOR_DECK = "Floor Deck"
    ROOF_DECK = "Roof Deck"
    PARTIAL_TEMP_BUILDING_FINAL = "Partial/Temp Building Final"
    BUILDING_FINAL = "Building Final"
    FIRE_FINAL = "Fire Final"
    ZONING_FINAL = "Zoning Final"
    PROGRESS_CHECK = "Progress Check"
    HEALTH_FINAL = "Health Final"
    SANITARY_SEWER_FINAL = "Sanitary Sewer Final"
    STORM_SEWER_FINAL = "Storm Sewer Final"
    ROOF_FINAL = "Roof Final"
    ROUGH_IN = "Rough In"
    DUCT_WORK = "Duct Work"
    MECHANICAL_FINAL = "Mechanical Final"
    SEWER = "Sewer"
    WATER = "Water"
    GAS = "Gas"
    PLUMBING_FINAL = "Plumbing Final"
    ELECTRICAL_FINAL = "Electrical Final"
    GRADING_FINAL = "Grading Final"


class InspectionType(models.Model):
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="inspection_types",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=20, choices=InspectionKind, default=InspectionKind.GENERAL
    )
    blds_type = models.CharField(
        _("BLDS mapped type"), max_length=60, choices=BldsInspectionType, blank=True
    )
    display_order = models.PositiveSmallIntegerField(_("display order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("inspection type")
        verbose_name_plural = _("inspection types")
        ordering = ["municipality", "display_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="inspection_type_name_unique_per_municipality"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=InspectionKind.values), name="inspection_type_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InspectionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("Visit in progress")
    REVISIT_REQUIRED = "revisit_required", _("Not passed – new visit required")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    # Closed, then reopened by a follow-up visit for its outstanding matters (its permit stands).
    FOLLOW_UP = "follow_up", _("Follow-up of outstanding matters")


class Inspection(models.Model):
    """One required inspection of an application (Footings, Framing, Occupancy …)."""

    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("application"),
    )
    inspection_type = models.ForeignKey(
        InspectionType,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("inspection type"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=InspectionStatus, default=InspectionStatus.NOT_STARTED
    )
    assigned_inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_inspections",
        verbose_name=_("assigned inspector"),
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
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # An inspection added by mistake is cancelled (never deleted): who, when and why.
    cancelled_reason = BoundedTextField(_("reason for cancelling"), max_length=1000, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["application", "inspection_type__display_order", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InspectionStatus.values), name="inspection_status_valid"
            ),
            # Cancelled if and only if a reason was given.
            models.CheckConstraint(
                condition=(Q(status=InspectionStatus.CANCELLED) & ~Q(cancelled_reason=""))
                | (~Q(status=InspectionStatus.CANCELLED) & Q(cancelled_reason="")),
                name="inspection_cancelled_has_reason",
                violation_error_message=_(
                    "A cancelled inspection needs a reason, and only a cancelled one has one: "
                    "cancel it from the inspection page."
                ),
            ),
            max_length_constraint("inspections_inspection", "cancelled_reason", 1000),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_type} on {self.application.number}"

    def get_absolute_url(self) -> str:
        return reverse("inspections:inspection_detail", kwargs={"code": self.code})

    @property
    def is_finished(self) -> bool:
        """Closed or cancelled: no new visit can start."""
        return self.status in (InspectionStatus.CLOSED, InspectionStatus.CANCELLED)

    @property
    def is_closed(self) -> bool:
        return self.status == InspectionStatus.CLOSED

    @property
    def is_cancelled(self) -> bool:
        return self.status == InspectionStatus.CANCELLED

    @property
    def is_occupancy(self) -> bool:
        return self.inspection_type.kind == InspectionKind.OCCUPANCY


class VisitStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("visit status", "Open")
    CLOSED = "closed", _("Closed")


class VisitType(models.TextChoices):
    ON_SITE = "on_site", _("On-site")
    COMMUNICATION_ONLY = "communication_only", _("Communication only")
    # Started on a closed inspection only, to resolve its outstanding matters; never a grant.
    FOLLOW_UP = "follow_up", _("Follow-up of outstanding matters")


class VisitResult(models.TextChoices):
    GRANTED_FULL = "granted_full", _("Granted and fully completed")
    GRANTED_OUTSTANDING = "granted_outstanding", _("Granted, but outstanding matters")
    NOT_GRANTED = "not_granted", _("Not granted")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed (Not substantially complete)")


OCCUPANCY_RESULTS = (
    VisitResult.GRANTED_FULL,
    VisitResult.GRANTED_OUTSTANDING,
    VisitResult.NOT_GRANTED,
)
GENERAL_RESULTS = (VisitResult.PASSED, VisitResult.FAILED)
GRANT_RESULTS = (VisitResult.GRANTED_FULL, VisitResult.GRANTED_OUTSTANDING)
FAILING_RESULTS = (VisitResult.NOT_GRANTED, VisitResult.FAILED)


class FailureReason(models.TextChoices):
    INFORMATION_REQUIRED = "information_required", _("Information required")
    DEFICIENCIES = "deficiencies", _("Deficiencies")
    ORDER_ISSUED = "order_issued", _("Order issued")


class Visit(models.Model):
    """One attempt at an inspection. Open (a draft) until Finish and Close, then frozen."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="visits", verbose_name=_("inspection")
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus, default=VisitStatus.OPEN
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="started_visits",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    visit_type = models.CharField(
        _("visit type"), max_length=20, choices=VisitType, default=VisitType.ON_SITE
    )
    internal_notes = BoundedTextField(
        _("internal notes"),
        max_length=5000,
        blank=True,
        help_text=_("Staff only: never printed on a document or exported."),
    )
    # Printed on the inspection report, which the close renders: a bound on the close's cost.
    site_conditions = BoundedTextField(_("site conditions"), max_length=2000, blank=True)
    time_used_minutes = models.PositiveIntegerField(
        _("time used (minutes)"), null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    result = models.CharField(_("result"), max_length=30, choices=VisitResult, blank=True)
    failure_reason = models.CharField(
        _("failure reason"), max_length=30, choices=FailureReason, blank=True
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="closed_visits",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    report_pdf = models.FileField(_("report pdf"), upload_to="reports/%Y/", blank=True)
    report_sha256 = models.CharField(_("report sha256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["inspection", "-sequence"]
        # The acts of the workflow, granted to roles (core.RoleGroup); the views check these.
        permissions = [
            ("record_visit", "Can record a visit: findings, orders, photos and the result"),
            ("close_visit", "Can finish and close a visit"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "sequence"], name="visit_sequence_unique_per_inspection"
            ),
            models.UniqueConstraint(
                fields=["inspection"],
                condition=Q(status=VisitStatus.OPEN),
                name="visit_one_open_per_inspection",
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="visit_sequence_positive"),
            models.CheckConstraint(
                condition=Q(status__in=VisitStatus.values), name="visit_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(result="") | Q(result__in=VisitResult.values),
                name="visit_result_valid",
            ),
            # A closed visit always has its result, its closer and its time.
            models.CheckConstraint(
                condition=Q(status=VisitStatus.OPEN)
                | (~Q(result="") & Q(closed_by__isnull=False) & Q(closed_at__isnull=False)),
                name="visit_closed_has_result",
            ),
            models.CheckConstraint(
                condition=Q(failure_reason="") | Q(result__in=FAILING_RESULTS),
                name="visit_failure_reason_only_when_failing",
            ),
            # A follow-up visit resolves outstanding matters; a permit is never issued on it.
            models.CheckConstraint(
                condition=~Q(visit_type=VisitType.FOLLOW_UP) | ~Q(result__in=GRANT_RESULTS),
                name="visit_follow_up_never_grants",
            ),
            models.CheckConstraint(
                condition=Q(time_used_minutes__isnull=True) | Q(time_used_minutes__lte=24 * 60),
                name="visit_time_used_at_most_a_day",
            ),
            max_length_constraint("inspections_visit", "internal_notes", 5000),
            max_length_constraint("inspections_visit", "site_conditions", 2000),
        ]

    def __str__(self) -> str:
        return f"Visit {self.sequence} of {self.inspection}"

    @property
    def is_open(self) -> bool:
        return self.status == VisitStatus.OPEN

    @property
    def is_follow_up(self) -> bool:
        return self.visit_type == VisitType.FOLLOW_UP


class Finding(models.Model):
    """A deficiency (blocks a pass) or a remark (informs only) recorded on a visit."""

    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, related_name="findings", verbose_name=_("visit")
    )
    discovery_date = models.DateField(_("discovery date"), default=timezone.localdate)
    description = BoundedTextField(_("description"), max_length=5000)
    is_remark = models.BooleanField(_("This is a remark only"), default=False)
    corrected_on_visit = models.ForeignKey(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_findings",
        verbose_name=_("corrected on visit"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["discovery_date", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_remark=False) | Q(corrected_on_visit__isnull=True),
                name="finding_remark_never_corrected",
            ),
            models.CheckConstraint(
                condition=~Q(corrected_on_visit=models.F("visit")),
                name="finding_corrected_on_a_later_visit",
            ),
            max_length_constraint("inspections_finding", "description", 5000),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label}: {self.description[:60]}"

    @property
    def kind_label(self) -> str:
        """ "Remark" or "Deficiency", in the active language when it is read."""
        return _("Remark") if self.is_remark else _("Deficiency")

    @property
    def is_outstanding(self) -> bool:
        return not self.is_remark and self.corrected_on_visit_id is None


class OrderType(models.TextChoices):
    ORDER_TO_COMPLY = "order_to_comply", _("Order to Comply")
    ORDER_NOT_TO_COVER = "order_not_to_cover", _("Order Not to Cover")
    ORDER_TO_UNCOVER = "order_to_uncover", _("Order to Uncover")
    STOP_WORK = "stop_work", _("Stop Work Order")
    UNSAFE_BUILDING = "unsafe_building", _("Unsafe Building Order")
    EMERGENCY = "emergency", _("Emergency Order")


class Order(models.Model):
    """A legal order issued during a visit (Building Code Act, 1992)."""

    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, related_name="orders", verbose_name=_("visit")
    )
    order_type = models.CharField(_("order type"), max_length=30, choices=OrderType)
    issued_to = models.CharField(
        _("issued to"),
        max_length=300,
        help_text=_("Name, role and contact of the person the order is issued to."),
    )
    description = BoundedTextField(_("description"), max_length=5000)
    comply_by = models.DateField(_("comply by"), null=True, blank=True)
    findings = models.ManyToManyField(
        Finding, blank=True, related_name="orders", verbose_name=_("findings")
    )
    complied_on_visit = models.ForeignKey(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complied_orders",
        verbose_name=_("complied on visit"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order_type__in=OrderType.values), name="order_type_valid"
            ),
            models.CheckConstraint(
                condition=~Q(complied_on_visit=models.F("visit")),
                name="order_complied_on_a_later_visit",
            ),
            max_length_constraint("inspections_order", "description", 5000),
        ]

    def __str__(self) -> str:
        return f"{self.get_order_type_display()} to {self.issued_to}"

    @property
    def is_outstanding(self) -> bool:
        return self.complied_on_visit_id is None


def photo_upload_to(photo: "Photo", filename: str) -> str:
    # Server-generated names only: nothing of the uploader's file name reaches the disk.
    return f"photos/{timezone.now():%Y/%m}/{photo.code}.jpg"


def thumbnail_upload_to(photo: "Photo", filename: str) -> str:
    return f"photos/{timezone.now():%Y/%m}/{photo.code}-thumb.jpg"


class Photo(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_code, editable=False)
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, related_name="photos", verbose_name=_("visit")
    )
    image = models.ImageField(_("image"), upload_to=photo_upload_to)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=thumbnail_upload_to)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    description = models.CharField(_("description"), max_length=500)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    finding = models.ForeignKey(
        Finding,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name=_("finding"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.description


class DefaultInspection(models.Model):
    """An inspection type added automatically to every new application of a work type."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="default_inspections",
        verbose_name=_("municipality"),
    )
    work_type = models.CharField(_("work type"), max_length=20, choices=WorkType)
    inspection_type = models.ForeignKey(
        InspectionType,
        on_delete=models.CASCADE,
        related_name="defaults",
        verbose_name=_("inspection type"),
    )

    class Meta:
        verbose_name = _("default inspection")
        verbose_name_plural = _("default inspections")
        ordering = ["municipality", "work_type", "inspection_type__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "work_type", "inspection_type"],
                name="default_inspection_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_type} for {self.get_work_type_display()}"
