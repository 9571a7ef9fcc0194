"""Fill the database with a realistic demo: two Ontario municipalities, their staff, inspection
types, occupancy permit types and templates, and about forty building-permit applications with
their inspections and visit history.

    python manage.py seed_demo [--password P]

Idempotent: every row is found by its natural key (municipality slug, username, inspection
type and permit type name, template name, application number within its municipality)
before it is created. Configuration rows (municipalities, users, memberships, inspection and
permit types) are brought back to the demo values on a re-run; templates and applications are
only created when missing, so edits made while trying the demo (a new template version, a
closed visit) are kept. An application's inspections, visits, findings and orders are created
together with the application. Two applications of the Town are occupied with outstanding
matters: their Occupancy visit is closed through the real services, which issue the permit
with its number and PDF (demo_data.OUTSTANDING_MATTERS); a re-run leaves them as they are.

Passwords: with --password every demo user gets that password, also on a re-run. Without it,
users created by this run get a generated password that is printed once; existing users keep
theirs.

Permit templates: each template stores the body of one occupancy/default_templates/*.html
file and, as its stylesheet, occupancy/default_templates/permit.css (shared by all of them;
the French and bilingual ones add permit-fr.css or permit-bilingual.css). Besides the English
General and Partial types, each municipality has French ones (Général, Partielle) and a
bilingual one (General / Général), their checklists in their language, so a French user
issues a French permit.

Data tables and the generator live in demo/data.py; the generator uses random.Random(2026)
and fixed dates, so every run yields the same data. Rows are made by demo.builders, the same
builders the tests and the benchmark use.
"""

import random
import secrets
from datetime import timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from core.models import Membership, Municipality, Role
from demo import builders
from demo import data as demo_data
from inspections import services as inspection_services
from inspections.models import (
    Finding,
    Inspection,
    InspectionStatus,
    InspectionType,
    Order,
    OrderType,
    Visit,
    VisitResult,
)
from occupancy.checklists import default_conditions, permit_type_seed_checklist
from occupancy.defaults import default_template
from occupancy.models import (
    ConditionMark,
    OccupancyCondition,
    OccupancyPermit,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
    PermitLanguage,
    RequiredInspection,
)
from occupancy.rules import GrantDetails
from occupancy.services import visit_finish_and_close
from permits.models import Application
from scheduling.models import HalfDay, InspectionRequest, RequestStatus
from scheduling.rules import Calendar

LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"
NO_EMAIL = "django.core.mail.backends.dummy.EmailBackend"


def aware(value):
    return timezone.make_aware(value, timezone.get_default_timezone())


def find_or_build(model, build, *, key: dict, values: dict):
    """The row with the natural key `key`, its fields brought back to `values`; made by the
    builder `build` when there is none. Returns (row, created)."""
    row = model.objects.filter(**key).first()
    if row is None:
        return build(**key, **values), True
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return row, False


class Command(BaseCommand):
    help = "Create demo municipalities, users, configuration and applications (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password of every demo user (also resets it on a re-run). "
            "Without it, new users get a generated password, printed once.",
        )

    def handle(self, *args, password=None, **options):
        if password is not None and not password.strip():
            raise CommandError("--password must not be empty.")
        self.created: dict[str, int] = {}
        # The demo's applicants are made up: the e-mail a close sends them (after commit) goes
        # nowhere.
        with override_settings(EMAIL_BACKEND=NO_EMAIL), transaction.atomic():
            municipalities = self.seed_municipalities()
            users, password_note = self.seed_users(municipalities, password)
            for municipality in municipalities.values():
                self.seed_inspection_types(municipality)
                self.seed_permit_types_and_templates(municipality, users["admin"])
                self.seed_required_inspections(municipality)
            rng = random.Random(demo_data.SEED)
            for slug, municipality in municipalities.items():
                types = {t.name: t for t in municipality.inspection_types.all()}
                staff = self.staff_of(slug, users)
                for data in demo_data.build_applications(slug, rng):
                    self.seed_application(municipality, data, types, staff)
                for data in demo_data.build_occupied_with_matters(slug):
                    self.seed_occupied_with_matters(municipality, data, types, staff)
            self.seed_inspection_requests(municipalities["town-of-example"], users)
        self.report(municipalities, password_note)

    def count(self, label: str, created: bool | int) -> None:
        """Add what was created: a flag for one row, or how many rows."""
        self.created[label] = self.created.get(label, 0) + int(created)

    def seed_municipalities(self) -> dict[str, Municipality]:
        municipalities = {}
        for values in demo_data.MUNICIPALITIES:
            values = dict(values)
            slug = values.pop("slug")
            municipality, created = find_or_build(
                Municipality, builders.municipality, key={"slug": slug}, values=values
            )
            self.count("Municipalities", created)
            municipalities[slug] = municipality
        return municipalities

    def seed_users(self, municipalities, password):
        User = get_user_model()
        usernames = [row[0] for row in demo_data.USERS]
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        generated = None
        if password is None and len(existing) < len(usernames):
            generated = secrets.token_urlsafe(9)
        users, created_names = {}, []
        self.inspector_password = password
        for username, first_name, last_name, slug, role in demo_data.USERS:
            superuser = username in demo_data.SUPERUSERS
            municipality = municipalities[slug] if slug is not None else None
            build = partial(
                builders.staff_user,
                municipality=municipality,
                role=role,
                password=password if password is not None else generated,
            )
            user, created = find_or_build(
                User,
                build,
                key={"username": username},
                values={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{first_name}.{last_name}@example.com".lower(),
                    "is_active": True,
                    # The admin lets in staff: the operator and the municipal administrators.
                    "is_staff": superuser or role == Role.MUNICIPAL_ADMIN,
                    "is_superuser": superuser,
                },
            )
            self.count("Users", created)
            if created:
                created_names.append(username)
                if username == "inspector" and generated is not None:
                    self.inspector_password = generated
                self.count("Memberships", municipality is not None)
            else:
                if password is not None:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                if municipality is not None:
                    _, created = Membership.objects.update_or_create(
                        user=user, municipality=municipality, defaults={"role": role}
                    )
                    self.count("Memberships", created)
            users[username] = user
        if password is not None:
            note = f"Password of {', '.join(usernames)} set to the one given with --password."
        elif generated is not None:
            note = (
                f"Generated password for {', '.join(created_names)}: {generated}"
                " (shown only now; run with --password P to choose one)."
            )
            if existing:
                note += f" Passwords of {', '.join(sorted(existing))} unchanged."
        else:
            note = "Passwords unchanged (all users existed); run with --password P to reset them."
        return users, note

    def seed_inspection_types(self, municipality):
        for name, kind, blds_type, order in demo_data.INSPECTION_TYPES:
            _, created = find_or_build(
                InspectionType,
                builders.inspection_type,
                key={"municipality": municipality, "name": name},
                values={"kind": kind, "blds_type": blds_type, "display_order": order},
            )
            self.count("Inspection types", created)

    def seed_permit_types_and_templates(self, municipality, admin) -> None:
        permit_types = {}
        for values in demo_data.PERMIT_TYPES:
            values = {**demo_data.PERMIT_TYPE_DEFAULTS, **values}
            name = values.pop("name")
            permit_types[name], created = find_or_build(
                OccupancyPermitType,
                builders.permit_type,
                key={"municipality": municipality, "name": name},
                values=values,
            )
            self.count("Occupancy permit types", created)
            seeded = self.seed_checklist(permit_types[name])
            self.count("Checklist conditions", seeded)
        for name, type_name, filename in demo_data.PERMIT_TEMPLATES:
            default = default_template(filename)
            template, created = OccupancyPermitTemplate.objects.get_or_create(
                municipality=municipality,
                name=name,
                defaults={
                    "permit_type": permit_types[type_name],
                    "body": default.body,
                    "stylesheet": default.stylesheet,
                    "version": 1,
                },
            )
            self.count("Occupancy permit templates", created)
            # Every template body in use has its version row; keep that true for old rows too.
            _, created = OccupancyPermitTemplateVersion.objects.get_or_create(
                template=template,
                version=template.version,
                defaults={
                    "body": template.body,
                    "stylesheet": template.stylesheet,
                    "created_by": admin,
                },
            )
            self.count("Template versions", created)

    @staticmethod
    def seed_checklist(permit_type) -> int:
        """The Code's checklist of the type's kind (occupancy.checklists), in the type's
        language: French for a French type, English then French for a bilingual one
        (demo_data.FRENCH_CHECKLISTS); nothing when the type has conditions already."""
        if permit_type.language == PermitLanguage.ENGLISH:
            return permit_type_seed_checklist(permit_type=permit_type)
        if permit_type.conditions.exists():
            return 0
        english = default_conditions(permit_type.kind)
        french = demo_data.FRENCH_CHECKLISTS[permit_type.kind]
        rows = [
            (clause_fr, text_fr)
            if permit_type.language == PermitLanguage.FRENCH
            else (clause, f"{text} / {text_fr}")
            for (clause, text), (clause_fr, text_fr) in zip(english, french, strict=True)
        ]
        OccupancyCondition.objects.bulk_create(
            OccupancyCondition(
                permit_type=permit_type, clause=clause, text=text, display_order=10 * (n + 1)
            )
            for n, (clause, text) in enumerate(rows)
        )
        return len(rows)

    def seed_required_inspections(self, municipality) -> None:
        types = {t.name: t for t in municipality.inspection_types.all()}
        for work_type, names in demo_data.REQUIRED_BEFORE_OCCUPANCY.items():
            for name in names:
                _, created = RequiredInspection.objects.get_or_create(
                    municipality=municipality, work_type=work_type, inspection_type=types[name]
                )
                self.count("Required before occupancy", created)

    @staticmethod
    def staff_of(slug: str, users) -> dict:
        if slug == "town-of-example":
            return {"inspector": users["inspector"], "clerk": users["clerk"]}
        return {"inspector": users["inspector2"], "clerk": users["inspector2"]}

    def seed_application(self, municipality, data, types, staff) -> None:
        fields = {k: v for k, v in data.items() if k not in ("inspections", "last_activity")}
        number = fields.pop("number")
        exists = Application.objects.filter(municipality=municipality, number=number).exists()
        self.count("Applications", not exists)
        if exists:
            return  # its history was written with it; a re-run leaves it as it is now
        application = builders.application(
            municipality=municipality,
            number=number,
            last_activity_at=aware(data["last_activity"]),
            **fields,
        )
        inspector = staff["inspector"]
        for spec in data["inspections"]:
            inspection = builders.inspection(
                application=application,
                inspection_type=types[spec["type"]],
                status=spec["status"],
                assigned_inspector=inspector,
                created_by=staff["clerk"],
                created_at=aware(spec["added_at"]),
            )
            self.count("Inspections", True)
            visits, later = {}, []
            for visit_spec in spec["visits"]:
                visit, resolved_later = self.seed_visit(inspection, visit_spec, inspector)
                visits[visit.sequence] = visit
                later += resolved_later
            # Deficiencies corrected and orders complied with on a later visit, written as
            # history: that visit is closed already (PostgreSQL's record guards refuse it
            # otherwise).
            for row, field, sequence in later:
                setattr(row, field, visits[sequence])
                with builders.written_as_history():
                    row.save(update_fields=[field])

    def seed_occupied_with_matters(self, municipality, data, types, staff) -> None:
        """An application ready for occupancy whose Occupancy visit is then recorded and
        closed through the real services: a General permit "Granted, but outstanding
        matters" (number, PDF, snapshot), the application Occupied. Nothing is e-mailed."""
        data = dict(data)
        spec = data.pop("outstanding")
        if Application.objects.filter(municipality=municipality, number=data["number"]).exists():
            self.count("Applications", False)
            return  # issued once; a re-run leaves the permit and what followed as they are
        self.seed_application(municipality, data, types, staff)
        application = Application.objects.get(municipality=municipality, number=data["number"])
        inspector = staff["inspector"]
        inspection = application.inspections.get(inspection_type=types["Occupancy"])
        visit = inspection_services.visit_start(inspection=inspection, actor=inspector)
        if "deficiency" in spec:
            finding = inspection_services.finding_add(
                visit=visit,
                actor=inspector,
                discovery_date=timezone.localdate(),
                description=spec["deficiency"],
                is_remark=False,
            )
            inspection_services.order_add(
                visit=visit,
                actor=inspector,
                order_type=OrderType.ORDER_TO_COMPLY,
                issued_to=f"{application.owner_name}, owner",
                description=spec["order"],
                comply_by=timezone.localdate() + timedelta(days=spec["comply_in_days"]),
                findings=[finding],
            )
            self.count("Findings", True)
            self.count("Orders", True)
        template = OccupancyPermitTemplate.objects.get(
            municipality=municipality, name="General occupancy permit"
        )
        conditions = OccupancyCondition.objects.filter(
            permit_type=template.permit_type, is_active=True
        )
        visit_finish_and_close(
            visit=visit,
            actor=inspector,
            result=VisitResult.GRANTED_OUTSTANDING,
            grant=GrantDetails(
                template=template,
                granted_on=timezone.localdate(),
                description="Occupancy of the single detached dwelling, with the outstanding "
                "matters listed below.",
                conditions={c.pk: ConditionMark.MET for c in conditions},
            ),
        )
        self.count("Visits", True)
        self.count("Occupancy permits", True)

    def seed_visit(self, inspection, spec, inspector) -> tuple[Visit, list]:
        visit = builders.visit(
            inspection=inspection,
            inspector=inspector,
            sequence=spec["sequence"],
            result=spec["result"],
            failure_reason=spec["failure_reason"],
            started_at=aware(spec["started_at"]),
            closed_at=aware(spec["closed_at"]),
            site_conditions=spec["site_conditions"],
            time_used_minutes=spec["time_used_minutes"],
        )
        self.count("Visits", True)
        findings, later = [], []
        for finding in spec["findings"]:
            row = builders.finding(
                visit=visit,
                discovery_date=finding["discovery_date"],
                description=finding["description"],
                is_remark=finding["is_remark"],
                created_at=aware(spec["started_at"]),
            )
            findings.append(row)
            if finding["corrected_on_sequence"] is not None:
                later.append((row, "corrected_on_visit", finding["corrected_on_sequence"]))
            self.count("Findings", True)
        application = inspection.application
        for order_spec in spec["orders"]:
            order = builders.order(
                visit=visit,
                order_type=order_spec["order_type"],
                issued_to=f"{application.applicant_name}, permit applicant, "
                f"{application.applicant_phone}",
                description=order_spec["description"],
                comply_by=order_spec["comply_by"],
                created_at=aware(spec["started_at"]),
                findings=[row for row in findings if not row.is_remark],
            )
            if order_spec["complied_on_sequence"] is not None:
                later.append((order, "complied_on_visit", order_spec["complied_on_sequence"]))
            self.count("Orders", True)
        return visit, later

    def seed_inspection_requests(self, municipality, users) -> None:
        """Requests for today and the next days, so that My today is full for `inspector`
        and Dispatch has work for `clerk`: four of the inspector's today in their order, two
        on the next working day, one overdue from the last one, three still to assign. Days
        count from the day of the run (demo data written directly: the booking rules are the
        services'); only when the town has no request yet, so a re-run keeps what was
        dispatched meanwhile."""
        if InspectionRequest.objects.filter(municipality=municipality).exists():
            return
        today = timezone.localdate()
        waiting = list(
            Inspection.objects.filter(
                application__municipality=municipality,
                status__in=[InspectionStatus.NOT_STARTED, InspectionStatus.REVISIT_REQUIRED],
            )
            .select_related("application", "inspection_type")
            .order_by("application__number", "inspection_type__display_order")[:10]
        )
        inspector, clerk = users["inspector"], users["clerk"]
        calendar = Calendar(municipality)
        plan = [  # (day offset, half day, booked for the inspector)
            (0, HalfDay.MORNING, True),
            (0, HalfDay.MORNING, True),
            (0, HalfDay.AFTERNOON, True),
            (0, HalfDay.AFTERNOON, True),
            (1, HalfDay.MORNING, True),
            (1, HalfDay.AFTERNOON, True),
            (-1, HalfDay.AFTERNOON, True),
            (2, HalfDay.MORNING, False),
            (2, HalfDay.AFTERNOON, False),
            (3, HalfDay.MORNING, False),
        ]
        positions: dict[int, int] = {}
        notes = ["Lockbox 4321 at the side door", "", "Dog in the yard: call first", ""]
        for index, (inspection, (offset, half_day, booked)) in enumerate(
            zip(waiting, plan, strict=False)
        ):
            day = demo_day(calendar, today, offset)
            fields = {"half_day": half_day, "access_notes": notes[index % len(notes)]}
            if booked:
                positions[offset] = positions.get(offset, 0) + 1
                fields |= {
                    "status": RequestStatus.CONFIRMED,
                    "assigned_inspector": inspector,
                    "confirmed_date": day,
                    "position": positions[offset],
                }
            builders.inspection_request(
                inspection=inspection, requested_by=clerk, requested_date=day, **fields
            )
            self.count("Inspection requests", True)

    def report(self, municipalities, password_note: str) -> None:
        ids = [m.pk for m in municipalities.values()]
        User = get_user_model()
        totals = {
            "Municipalities": Municipality.objects.filter(pk__in=ids).count(),
            "Users": User.objects.filter(username__in=[row[0] for row in demo_data.USERS]).count(),
            "Memberships": Membership.objects.filter(municipality__in=ids).count(),
            "Inspection types": InspectionType.objects.filter(municipality__in=ids).count(),
            "Occupancy permit types": OccupancyPermitType.objects.filter(
                municipality__in=ids
            ).count(),
            "Checklist conditions": OccupancyCondition.objects.filter(
                permit_type__municipality__in=ids
            ).count(),
            "Required before occupancy": RequiredInspection.objects.filter(
                municipality__in=ids
            ).count(),
            "Occupancy permit templates": OccupancyPermitTemplate.objects.filter(
                municipality__in=ids
            ).count(),
            "Template versions": OccupancyPermitTemplateVersion.objects.filter(
                template__municipality__in=ids
            ).count(),
            "Applications": Application.objects.filter(municipality__in=ids).count(),
            "Inspections": Inspection.objects.filter(application__municipality__in=ids).count(),
            "Visits": Visit.objects.filter(inspection__application__municipality__in=ids).count(),
            "Findings": Finding.objects.filter(
                visit__inspection__application__municipality__in=ids
            ).count(),
            "Orders": Order.objects.filter(
                visit__inspection__application__municipality__in=ids
            ).count(),
            "Occupancy permits": OccupancyPermit.objects.filter(municipality__in=ids).count(),
            "Inspection requests": InspectionRequest.objects.filter(
                municipality__in=ids
            ).count(),
        }
        self.stdout.write("Demo data (created now / total):")
        for label, total in totals.items():
            self.stdout.write(f"  {label:<28}{self.created.get(label, 0):>4} /{total:>4}")
        self.stdout.write(password_note)
        if self.inspector_password is not None:
            login = f"Log in at {LOGIN_URL} as inspector / {self.inspector_password}"
        else:
            login = f"Log in at {LOGIN_URL} as inspector with its current password."
        self.stdout.write(self.style.SUCCESS(login))


def demo_day(calendar, today, offset: int):
    """The demo's day `offset` business days from today: today as it is (My today lists it
    whatever the day), the others business days (no request booked on a weekend or a
    holiday, as the booking rules would have it): 1 is the next working day My today lists
    next (on a Friday, Monday), -1 the last business day before today (the overdue one)."""
    if offset == 0:
        return today
    step = timedelta(days=1 if offset > 0 else -1)
    day = today
    for _ in range(abs(offset)):
        day += step
        while not calendar.is_business_day(day):
            day += step
    return day
