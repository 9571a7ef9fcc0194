from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.codes import new_code
from core.models import Municipality
from core.text_limits import BoundedTextField, max_length_constraint
from permits.models import Application, WorkType


class InspectionKind(models.TextChoices):
    GENERAL = "general", "General"
    OCCUPANCY = "occupancy", "Occupancy"


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
        Municipality, on_delete=models.PROTECT, related_name="inspection_types"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=InspectionKind, default=InspectionKind.GENERAL)
    blds_type = models.CharField(
        "BLDS mapped type", max_length=60, choices=BldsInspectionType, blank=True
    )
    display_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField("active", default=True)

    class Meta:
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
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "Visit in progress"
    REVISIT_REQUIRED = "revisit_required", "Not passed – new visit required"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    # Closed, then reopened by a follow-up visit for its outstanding matters (its permit stands).
    FOLLOW_UP = "follow_up", "Follow-up of outstanding matters"


class Inspection(models.Model):
    """One required inspection of an application (Footings, Framing, Occupancy …)."""

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="inspections"
    )
    inspection_type = models.ForeignKey(
        InspectionType, on_delete=models.PROTECT, related_name="inspections"
    )
    status = models.CharField(
        max_length=20, choices=InspectionStatus, default=InspectionStatus.NOT_STARTED
    )
    assigned_inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_inspections",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # An inspection added by mistake is cancelled (never deleted): who, when and why.
    cancelled_reason = BoundedTextField("reason for cancelling", max_length=1000, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
                violation_error_message="A cancelled inspection needs a reason, and only a "
                "cancelled one has one: cancel it from the inspection page.",
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
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class VisitType(models.TextChoices):
    ON_SITE = "on_site", "On-site"
    COMMUNICATION_ONLY = "communication_only", "Communication only"
    # Started on a closed inspection only, to resolve its outstanding matters; never a grant.
    FOLLOW_UP = "follow_up", "Follow-up of outstanding matters"


class VisitResult(models.TextChoices):
    GRANTED_FULL = "granted_full", "Granted and fully completed"
    GRANTED_OUTSTANDING = "granted_outstanding", "Granted, but outstanding matters"
    NOT_GRANTED = "not_granted", "Not granted"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed (Not substantially complete)"


OCCUPANCY_RESULTS = (
    VisitResult.GRANTED_FULL,
    VisitResult.GRANTED_OUTSTANDING,
    VisitResult.NOT_GRANTED,
)
GENERAL_RESULTS = (VisitResult.PASSED, VisitResult.FAILED)
GRANT_RESULTS = (VisitResult.GRANTED_FULL, VisitResult.GRANTED_OUTSTANDING)
FAILING_RESULTS = (VisitResult.NOT_GRANTED, VisitResult.FAILED)


class FailureReason(models.TextChoices):
    INFORMATION_REQUIRED = "information_required", "Information required"
    DEFICIENCIES = "deficiencies", "Deficiencies"
    ORDER_ISSUED = "order_issued", "Order issued"


class Visit(models.Model):
    """One attempt at an inspection. Open (a draft) until Finish and Close, then frozen."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="visits")
    sequence = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=VisitStatus, default=VisitStatus.OPEN)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="started_visits"
    )
    started_at = models.DateTimeField(default=timezone.now)
    visit_type = models.CharField(max_length=20, choices=VisitType, default=VisitType.ON_SITE)
    internal_notes = BoundedTextField(
        max_length=5000,
        blank=True,
        help_text="Staff only: never printed on a document or exported.",
    )
    # Printed on the inspection report, which the close renders: a bound on the close's cost.
    site_conditions = BoundedTextField(max_length=2000, blank=True)
    time_used_minutes = models.PositiveIntegerField(
        "time used (minutes)", null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    result = models.CharField(max_length=30, choices=VisitResult, blank=True)
    failure_reason = models.CharField(max_length=30, choices=FailureReason, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="closed_visits",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    report_pdf = models.FileField(upload_to="reports/%Y/", blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
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

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="findings")
    discovery_date = models.DateField(default=timezone.localdate)
    description = BoundedTextField(max_length=5000)
    is_remark = models.BooleanField("This is a remark only", default=False)
    corrected_on_visit = models.ForeignKey(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_findings",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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
        kind = "Remark" if self.is_remark else "Deficiency"
        return f"{kind}: {self.description[:60]}"

    @property
    def kind_label(self) -> str:
        return "Remark" if self.is_remark else "Deficiency"

    @property
    def is_outstanding(self) -> bool:
        return not self.is_remark and self.corrected_on_visit_id is None


class OrderType(models.TextChoices):
    ORDER_TO_COMPLY = "order_to_comply", "Order to Comply"
    ORDER_NOT_TO_COVER = "order_not_to_cover", "Order Not to Cover"
    ORDER_TO_UNCOVER = "order_to_uncover", "Order to Uncover"
    STOP_WORK = "stop_work", "Stop Work Order"
    UNSAFE_BUILDING = "unsafe_building", "Unsafe Building Order"
    EMERGENCY = "emergency", "Emergency Order"


class Order(models.Model):
    """A legal order issued during a visit (Building Code Act, 1992)."""

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="orders")
    order_type = models.CharField(max_length=30, choices=OrderType)
    issued_to = models.CharField(
        max_length=300, help_text="Name, role and contact of the person the order is issued to."
    )
    description = BoundedTextField(max_length=5000)
    comply_by = models.DateField("comply by", null=True, blank=True)
    findings = models.ManyToManyField(Finding, blank=True, related_name="orders")
    complied_on_visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="complied_orders"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_to)
    thumbnail = models.ImageField(upload_to=thumbnail_upload_to)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    taken_at = models.DateTimeField(null=True, blank=True)
    finding = models.ForeignKey(
        Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.description


class DefaultInspection(models.Model):
    """An inspection type added automatically to every new application of a work type."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="default_inspections"
    )
    work_type = models.CharField(max_length=20, choices=WorkType)
    inspection_type = models.ForeignKey(
        InspectionType, on_delete=models.CASCADE, related_name="defaults"
    )

    class Meta:
        ordering = ["municipality", "work_type", "inspection_type__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "work_type", "inspection_type"],
                name="default_inspection_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_type} for {self.get_work_type_display()}"
