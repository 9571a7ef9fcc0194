from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Municipality, Province
from core.text_limits import BoundedTextField, max_length_constraint
from permits.search import KEY_FIELDS, search_key

# Application numbers appear in URLs: letters, digits and a few separators only.
application_number_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
    _("Use letters, digits, dots, dashes or underscores (at most 40 characters)."),
)


class WorkType(models.TextChoices):
    NEW = "new", _("New construction")
    ADDITION = "addition", _("Addition")
    ALTERATION = "alteration", _("Alteration / renovation")
    CHANGE_OF_USE = "change_of_use", _("Change of use")
    DEMOLITION = "demolition", _("Demolition")
    ACCESSORY = "accessory", _("Accessory structure")
    PLUMBING = "plumbing", _("Plumbing")
    HVAC = "hvac", _("Heating, ventilation, air conditioning")
    SEPTIC = "septic", _("On-site sewage system")
    OTHER = "other", _("Other")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    PERMIT_ISSUED = "permit_issued", _("Permit issued")
    CONSTRUCTION_STARTED = "construction_started", _("Construction started")
    OCCUPIED = "occupied", _("Occupied")
    FINISHED = "finished", _("Finished")
    CLOSED = "closed", _("Closed")


class Application(models.Model):
    """A building-permit application; its staff page is the Work view."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("municipality"),
    )
    number = models.CharField(_("number"), max_length=40, validators=[application_number_validator])
    work_type = models.CharField(
        _("work type"), max_length=20, choices=WorkType, default=WorkType.NEW
    )
    description = BoundedTextField(_("description"), max_length=4000)
    street_address = models.CharField(_("street address"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100)
    province = models.CharField(_("province"), max_length=2, choices=Province, default=Province.ON)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    roll_number = models.CharField(_("roll number"), max_length=40, blank=True)
    legal_description = BoundedTextField(_("legal description"), max_length=2000, blank=True)
    applicant_name = models.CharField(_("applicant name"), max_length=200)
    applicant_email = models.EmailField(_("applicant email"), blank=True)
    applicant_phone = models.CharField(_("applicant phone"), max_length=40, blank=True)
    owner_name = models.CharField(_("owner name"), max_length=200, blank=True)
    owner_email = models.EmailField(_("owner email"), blank=True)
    owner_phone = models.CharField(_("owner phone"), max_length=40, blank=True)
    # E-mails to the applicant and owner, and the inspection reports, are written in it
    # (docs/french.md); the staff's pages follow each user's own language.
    correspondence_language = models.CharField(
        _("language of correspondence"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en-ca",
    )
    status = models.CharField(
        _("status"), max_length=30, choices=ApplicationStatus, default=ApplicationStatus.SUBMITTED
    )
    applied_on = models.DateField(_("applied on"), default=timezone.localdate)
    permit_issued_on = models.DateField(_("permit issued on"), null=True, blank=True)
    occupied_on = models.DateField(_("occupied on"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    # What is odd in an imported record kept as the department's old system had it (e.g. a
    # permit issued before its application), set by the importer only; "" for the rest.
    data_quality_notes = models.CharField(
        _("data quality notes"), blank=True, default="", max_length=500
    )
    # Numbers other records give this application, found by the search: its occupancy
    # permits' (permits.services.application_add_other_number), separated by spaces.
    other_numbers = models.TextField(_("other numbers"), editable=False, blank=True, default="")
    # The search key (permits.search.search_key), kept by save() and by the importer: one
    # column that one trigram index serves (see migration 0002).
    search_text = models.TextField(_("search text"), editable=False, default="")
    last_activity_at = models.DateTimeField(
        _("last activity at"), default=timezone.now, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-last_activity_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "number"], name="application_number_unique_per_municipality"
            ),
            models.CheckConstraint(
                condition=models.Q(correspondence_language__in=[c for c, _n in settings.LANGUAGES]),
                name="application_correspondence_language_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ApplicationStatus.values),
                name="application_status_valid",
            ),
            # Entered in Threshold, a permit is never issued before it was applied for; an
            # imported record from an old system may be, kept as it was with its notes.
            models.CheckConstraint(
                condition=models.Q(permit_issued_on__isnull=True)
                | models.Q(permit_issued_on__gte=models.F("applied_on"))
                | ~models.Q(data_quality_notes=""),
                name="application_issued_not_before_applied",
            ),
            max_length_constraint("permits_application", "description", 4000),
            max_length_constraint("permits_application", "legal_description", 2000),
        ]
        indexes = [
            models.Index(
                fields=["municipality", "-last_activity_at"], name="application_muni_activity_idx"
            ),
            models.Index(Upper("number"), name="application_number_upper_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} – {self.full_address}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.search_text = self.build_search_text()
        elif set(update_fields) & set(KEY_FIELDS):
            self.search_text = self.build_search_text()
            if "search_text" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "search_text"]
        # Otherwise (a status change) the key cannot have changed: it is left as stored,
        # with the other numbers this instance may not know of yet.
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "permits:application_detail",
            kwargs={"municipality": self.municipality.slug, "number": self.number},
        )

    @property
    def full_address(self) -> str:
        street = f"{self.unit}-{self.street_address}" if self.unit else self.street_address
        return f"{street}, {self.city}"

    def build_search_text(self) -> str:
        return search_key(self)
