"""Inspection requests, the days they may be booked on and each inspector's daily capacity.

A request asks for an inspection of an application on a day, in the morning or the
afternoon; the department confirms it with a day and an inspector (dispatch), the inspector
works through the day's confirmed requests in their own order (My today), and the visit
started from the request completes it when it closes (scheduling.signals).
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.codes import new_code
from core.models import Municipality
from core.text_limits import BoundedTextField, max_length_constraint
from inspections.models import Inspection, InspectionType, Visit
from permits.models import Application

DEFAULT_MINIMUM_NOTICE_DAYS = 2
DEFAULT_INSPECTIONS_PER_DAY = 8


class HalfDay(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")

    @property
    def hours(self) -> tuple[datetime.time, datetime.time]:
        """Local start and end of the half day (the calendar feed's event times)."""
        if self == HalfDay.MORNING:
            return datetime.time(8), datetime.time(12)
        return datetime.time(13), datetime.time(17)


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("inspection request", "Requested")
    CONFIRMED = "confirmed", pgettext_lazy("inspection request", "Confirmed")
    DECLINED = "declined", pgettext_lazy("inspection request", "Declined")
    DONE = "done", pgettext_lazy("inspection request", "Done")
    CANCELLED = "cancelled", pgettext_lazy("inspection request", "Cancelled")


# Waiting for the visit: a second request of the same type is refused meanwhile.
OPEN_STATUSES = (RequestStatus.REQUESTED, RequestStatus.CONFIRMED)


class SchedulingSettings(models.Model):
    """A municipality's booking rules (core.Municipality is core's: this app keeps its own)."""

    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.CASCADE,
        related_name="scheduling_settings",
        verbose_name=_("municipality"),
    )
    minimum_notice_days = models.PositiveSmallIntegerField(
        _("minimum notice (business days)"),
        default=DEFAULT_MINIMUM_NOTICE_DAYS,
        help_text=_("How many business days ahead an inspection must be requested."),
    )

    class Meta:
        verbose_name = _("scheduling settings")
        verbose_name_plural = _("scheduling settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_notice_days__lte=30), name="scheduling_notice_at_most_30"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Scheduling settings of %(municipality)s") % {
            "municipality": self.municipality
        }


class Holiday(models.Model):
    """A day the municipality's building department is closed besides the statutory
    holidays (those come from the `holidays` package): a civic holiday, a closure."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="holidays",
        verbose_name=_("municipality"),
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["municipality", "date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "date"], name="holiday_one_per_day_per_municipality"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%Y-%m-%d})"


class InspectorCapacity(models.Model):
    """How many inspections an inspector is booked for at most on one day."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="inspector_capacities",
        verbose_name=_("municipality"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="inspector_capacities",
        verbose_name=_("user"),
    )
    inspections_per_day = models.PositiveSmallIntegerField(
        _("inspections per day"), default=DEFAULT_INSPECTIONS_PER_DAY
    )

    class Meta:
        ordering = ["municipality", "user__username"]
        verbose_name = _("inspector capacity")
        verbose_name_plural = _("inspector capacities")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "user"], name="capacity_one_per_inspector"
            ),
            models.CheckConstraint(
                condition=Q(inspections_per_day__gt=0) & Q(inspections_per_day__lte=50),
                name="capacity_between_1_and_50",
                violation_error_message=_("An inspector does between 1 and 50 inspections a day."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s: %(count)s a day in %(municipality)s") % {
            "user": self.user,
            "count": self.inspections_per_day,
            "municipality": self.municipality,
        }


class InspectionRequest(models.Model):
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="inspection_requests",
        verbose_name=_("application"),
    )
    inspection_type = models.ForeignKey(
        InspectionType,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspection type"),
    )
    # The inspection visited: an existing one not yet closed, or the one added with the request.
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="requests")
    requested_date = models.DateField(_("requested date"))
    half_day = models.CharField(
        _("half day"), max_length=10, choices=HalfDay, default=HalfDay.MORNING
    )
    site_contact_name = models.CharField(_("site contact"), max_length=200)
    site_contact_phone = models.CharField(_("site contact's phone"), max_length=40)
    access_notes = BoundedTextField(_("access notes"), max_length=1000, blank=True)
    # Who is told by e-mail when the request is confirmed, moved or declined and of the
    # visit's result (the applicant's address unless the requester gives another).
    notify_email = models.EmailField(_("e-mail for confirmations"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus, default=RequestStatus.REQUESTED
    )
    assigned_inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspection_requests",
        verbose_name=_("assigned inspector"),
    )
    confirmed_date = models.DateField(_("confirmed date"), null=True, blank=True)
    # The inspector's own order of their day (My today), lowest first.
    position = models.PositiveSmallIntegerField(default=0)
    decline_reason = BoundedTextField(_("decline reason"), max_length=1000, blank=True)
    # A request no longer needed is cancelled (never deleted): who, when and why.
    # db_default too: the previous release's code, still running during a rolling upgrade
    # (docs/deploying.md), inserts requests without this column.
    cancel_reason = BoundedTextField(
        _("reason for cancelling"), max_length=1000, blank=True, db_default=""
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    visit = models.ForeignKey(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("visit"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["confirmed_date", "position", "requested_date", "created_at"]
        verbose_name = _("inspection request")
        verbose_name_plural = _("inspection requests")
        permissions = [
            ("request_inspection", "Can request an inspection"),
            ("dispatch", "Can dispatch inspection requests: confirm, move and decline them"),
            ("cancel_inspection_request", "Can cancel an inspection request"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(half_day__in=HalfDay.values), name="request_half_day_valid"
            ),
            models.UniqueConstraint(
                fields=["application", "inspection_type"],
                condition=Q(status__in=OPEN_STATUSES),
                name="request_one_open_per_type",
                violation_error_message=_(
                    "This inspection type is already requested and not yet done."
                ),
            ),
            # A confirmed request has its day and its inspector.
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.CONFIRMED)
                | (Q(assigned_inspector__isnull=False) & Q(confirmed_date__isnull=False)),
                name="request_confirmed_has_day_and_inspector",
            ),
            # Declined if and only if a reason was given.
            models.CheckConstraint(
                condition=(Q(status=RequestStatus.DECLINED) & ~Q(decline_reason=""))
                | (~Q(status=RequestStatus.DECLINED) & Q(decline_reason="")),
                name="request_declined_has_reason",
            ),
            # Cancelled if and only if a reason was given (the requester is told it).
            models.CheckConstraint(
                condition=(Q(status=RequestStatus.CANCELLED) & ~Q(cancel_reason=""))
                | (~Q(status=RequestStatus.CANCELLED) & Q(cancel_reason="")),
                name="request_cancelled_has_reason",
            ),
            max_length_constraint("scheduling_inspectionrequest", "cancel_reason", 1000),
            max_length_constraint("scheduling_inspectionrequest", "access_notes", 1000),
            max_length_constraint("scheduling_inspectionrequest", "decline_reason", 1000),
        ]
        indexes = [
            models.Index(
                fields=["assigned_inspector", "confirmed_date"], name="request_inspector_day_idx"
            ),
            models.Index(fields=["municipality", "status"], name="request_municipality_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(type)s on %(number)s (%(status)s)") % {
            "type": self.inspection_type,
            "number": self.application.number,
            "status": self.get_status_display(),
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_confirmed(self) -> bool:
        return self.status == RequestStatus.CONFIRMED

    @property
    def day(self) -> datetime.date:
        """The day it is booked for: the confirmed one, else the one asked for."""
        return self.confirmed_date or self.requested_date


class CalendarFeed(models.Model):
    """An inspector's private calendar address. Only the SHA-256 of its secret is kept: the
    address is shown once, when it is made or reset, and a copied database reveals none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    token_sha256 = models.CharField(_("token sha256"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return gettext("Calendar feed of %(user)s") % {"user": self.user}
