"""The benchmark's data: twenty years of a large city's building permits, as rows for COPY.

A pure generator (no database): `Generator.rows()` yields (table, values) pairs, each row
written as a dict of column → value and turned into values in the column order of
`COLUMNS`, with ids assigned here so that every foreign key is known up front. The columns
are the models' own (`_meta.concrete_fields`): a row whose keys are not exactly its model's
columns raises ColumnMismatch, so a schema change stops the build instead of loading values
into the wrong columns.
Everything derives from one random.Random(seed) and `today`, so a size always gives the
same data.

Shape per application, on average (printed by the builder): about 5 inspections, 8 visits
and 10 findings. Each application follows a timeline: applied, permit issued, inspections
in site order; each inspection fails a few times (deficiencies, corrected on the next visit)
before it passes. Applications whose timeline reaches today are under construction: their
current inspection has an open visit or needs a revisit, the later ones are not started.
Occupancy inspections end with a grant and an issued occupancy permit (one stored PDF,
shared by every generated permit). A few inspections have a very long history (20 to 40
visits); the last `long_open` applications each have one of exactly 40 visits (39 closed,
one open) with 100 findings: the long history the inspection view's budget is set for.

With `applications_only` the generator yields only the applications (no inspections,
visits or audit entries; a status from the dates alone): the database the search is
measured on at a million applications, where only the application table is read.
"""

import datetime as dt
import json
import operator
import random
from types import SimpleNamespace

from core.models import Activity
from inspections.models import (
    FAILING_RESULTS,
    GRANT_RESULTS,
    FailureReason,
    Finding,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Order,
    Visit,
    VisitResult,
    VisitStatus,
    VisitType,
)
from occupancy.checklists import HOUSE
from occupancy.models import OccupancyPermit, PermitKind, PermitStatus
from occupancy.snapshot import (
    ApplicationPart,
    InspectionPart,
    MunicipalityPart,
    PermitPart,
    PermitSnapshot,
    VerifiedCondition,
    VisitPart,
)
from permits.models import Application, ApplicationStatus, WorkType

# What a real close of a house prints since issue 13: the Code's checklist, every condition met.
BENCH_CONDITIONS = tuple(
    VerifiedCondition(clause=clause, text=text, mark="met", mark_label="Met")
    for clause, text in HOUSE
)

UTC = dt.UTC

# The long history of the inspection view's budget (issue 16): 40 visits, 100 findings.
LONG_VISITS = 40
LONG_FINDINGS = 100

# The tables loaded with COPY, in the order the build opens them.
BULK_MODELS = (Application, Inspection, Visit, Finding, Order, Activity, OccupancyPermit)


class ColumnMismatch(Exception):
    """A generated row's keys are not its model's columns: the schema changed, the generator
    did not."""

    def __init__(self, model, row: dict):
        columns = [field.column for field in model._meta.concrete_fields]
        self.model = model
        self.missing = sorted(set(columns) - set(row))
        self.extra = sorted(set(row) - set(columns))
        super().__init__(
            f"bench rows for {model._meta.label} (table {model._meta.db_table}) do not match "
            f"the model's columns: missing {self.missing or 'none'}, extra "
            f"{self.extra or 'none'}. Bring bench/data.py's Generator up to date."
        )


class BulkTable:
    """One model's table as COPY sees it: the model's columns, and a row dict turned into
    values in that order, refused unless its keys are exactly those columns."""

    def __init__(self, model):
        self.model = model
        self.name = model._meta.db_table
        self.columns = tuple(field.column for field in model._meta.concrete_fields)
        self._values = operator.itemgetter(*self.columns)

    def values(self, row: dict) -> tuple:
        if len(row) == len(self.columns):
            try:
                return self._values(row)
            except KeyError:
                pass
        raise ColumnMismatch(self.model, row)


def bulk_tables() -> dict[str, BulkTable]:
    """Table name → BulkTable, read from the models now."""
    return {model._meta.db_table: BulkTable(model) for model in BULK_MODELS}


COLUMNS = {name: table.columns for name, table in bulk_tables().items()}

# name, kind, display order (the same list as the demo's, so pages look alike)
INSPECTION_TYPES = [
    ("Footings", InspectionKind.GENERAL, 10),
    ("Foundation", InspectionKind.GENERAL, 20),
    ("Framing", InspectionKind.GENERAL, 30),
    ("Insulation and vapour barrier", InspectionKind.GENERAL, 40),
    ("Plumbing rough-in", InspectionKind.GENERAL, 50),
    ("HVAC rough-in", InspectionKind.GENERAL, 60),
    ("Fire separations", InspectionKind.GENERAL, 70),
    ("Final plumbing", InspectionKind.GENERAL, 80),
    ("Occupancy", InspectionKind.OCCUPANCY, 90),
    ("Final", InspectionKind.GENERAL, 110),
]

# work type, weight, its inspections in site order
WORK = [
    (
        "new",
        30,
        "Footings, Foundation, Framing, Plumbing rough-in, Insulation and vapour barrier, "
        "Occupancy, Final",
    ),
    ("addition", 15, "Footings, Foundation, Framing, Insulation and vapour barrier, Occupancy"),
    ("alteration", 25, "Framing, Plumbing rough-in, Insulation and vapour barrier, Final"),
    ("change_of_use", 5, "Fire separations, Final plumbing, Occupancy, Final"),
    ("accessory", 12, "Footings, Framing, Final"),
    ("plumbing", 8, "Plumbing rough-in, Final plumbing"),
    ("hvac", 5, "HVAC rough-in, Final"),
]
WORK_DESCRIPTIONS = {
    "new": "New single detached dwelling with attached garage",
    "addition": "Two-storey rear addition",
    "alteration": "Interior alterations: finished basement with bathroom",
    "change_of_use": "Change of use: retail to restaurant",
    "accessory": "Detached garage",
    "plumbing": "Replacement of building drain",
    "hvac": "New furnace and ductwork",
}

STREET_NAMES = (
    "Maple, Queen, Elgin, Brant, Lakeshore, Orchard, Birch, Victoria, Mill, Wellington, "
    "Cedar Ridge, Heritage, Pine Valley, Sumac, Riverside, Church, Hawthorne, Harbour View, "
    "Dundas, King, Yonge, Bloor, Bathurst, Spadina, Kipling, Islington, Eglinton, Lawrence, "
    "Sheppard, Finch, Steeles, Markham, Kennedy, Warden, Pharmacy, Victoria Park, Bayview, "
    "Leslie, Don Mills, Woodbine, Coxwell, Greenwood, Pape, Broadview, Parliament, Sherbourne, "
    "Jarvis, Church Hill, Bay, University, Simcoe, Peter, John, Dufferin, Lansdowne, "
    "Keele, Jane, Weston, Scarlett, Royal York, Prince Edward, Montgomery, Burnhamthorpe, "
    "Dixie, Cawthra, Hurontario, Mavis, Creditview, Mississauga, Winston Churchill, Erin Mills, "
    "Ridgeway, Glen Erin, Tenth Line, Ninth Line, Trafalgar, Sixth Line, Dorval, Kerr, "
    "Brock, Rebecca, Allan, Navy, Thomas, Reynolds, Chartwell, Cornwall, Speers, Wyecroft, "
    "Fourth Line, Third Line, Bronte, Appleby, Walkers, Guelph, Brant Hills, Kilbride, "
    "Tansley, Upper Middle, Headon, Millcroft, Orchard Park, Palladium, Sandwich, Ouellette, "
    "Tecumseh, Wyandotte, Erie, Huron Church, Dougall, Howard, Walker, Lauzon, Banwell, "
    "Tulip, Lilac, Rose, Daisy, Aspen, Poplar, Willow, Spruce, Hemlock, Tamarack, Juniper, "
    "Chestnut, Walnut, Hickory, Oak, Elm, Ash, Beech, Alder, Sycamore, Magnolia, Laurel"
).split(", ")
STREET_TYPES = (
    "Street, Road, Avenue, Crescent, Drive, Court, Boulevard, Lane, Way, Place, Trail, Circle"
).split(", ")
GIVEN_NAMES = (
    "Sarah, David, Priya, Mohammed, Jennifer, Michael, Aisha, Liam, Emily, Wei, Olivia, Daniel, "
    "Fatima, Ryan, Chloe, Arjun, Nicole, Jean-François, Hannah, Kevin, Mei, Thomas, Amanda, "
    "Omar, Rebecca, Gurpreet, Sophie, Marco, Noah, Ava, Ethan, Isabella, Lucas, Mia, Benjamin, "
    "Charlotte, Samuel, Amelia, Jacob, Harper, Hiroshi, Yuki, Elena, Dmitri, Ana, Luis, "
    "Carmen, Kwame, Ngozi, Tariq, Leila, Sanjay, Deepa, Connor, Siobhan, Mateo, Valentina"
).split(", ")
SURNAMES = (
    "Thompson, Nguyen, MacDonald, Patel, Singh, Tremblay, Campbell, Wilson, O'Brien, Chen, "
    "Fraser, Kowalski, Rossi, Anderson, Lalonde, Hussain, Murray, Gill, Boucher, Stewart, Kim, "
    "Fernandes, Morrison, Ahmed, Sullivan, Dubois, Van der Berg, Li, Wang, Zhang, Liu, Brown, "
    "Smith, Roy, Gagnon, Côté, Bouchard, Gauthier, Morin, Lavoie, Fortin, Gagné, Ouellet, "
    "Pelletier, Bélanger, Lévesque, Bergeron, Leblanc, Paquette, Girard, Simard, Boucher-Roy, "
    "Taylor, Martin, White, Walker, Young, Scott, Green, Baker, Adams, Nelson, Hill, Mitchell, "
    "Roberts, Carter, Phillips, Evans, Turner, Torres, Parker, Collins, Edwards, Morris, "
    "Murphy, Cook, Rogers, Reid, Ross, Hughes, Grant, Graham, Hamilton, Kennedy, Robertson, "
    "Sandhu, Dhillon, Grewal, Sidhu, Khan, Malik, Rahman, Hossain, Das, Sharma, Gupta, Shah, "
    "Mehta, Joshi, Rao, Reddy, Iyer, Pillai, Menon, Santos, Silva, Costa, Oliveira, Pereira, "
    "Romano, Ricci, Greco, Bruno, Gallo, Conti, Esposito, Marino, Novak, Horvat, Kovač, "
    "Nowak, Wiśniewski, Kaminski, Lewandowski, Yilmaz, Demir, Kaya, Popescu, Ionescu"
).split(", ")
BUILDERS = [
    "Maplewood Homes Inc.",
    "Lakeview Custom Builders Ltd.",
    "Ferreira Construction Ltd.",
    "Northshore Design Build Inc.",
    "Heritage Renovations Ltd.",
    "Bayside Basements Inc.",
    "Greenline Plumbing & Drains",
    "Comfort Air Mechanical Ltd.",
    "Studio North Architects Inc.",
    "Backyard Decks & Fences",
]
DEFICIENCIES = [
    "Handrail missing on basement stairs",
    "Guard height at deck less than 900 mm",
    "Smoke alarm not interconnected on second floor",
    "Fire separation between garage and dwelling not sealed at penetrations",
    "Joist hangers missing at stair opening header",
    "Vapour barrier not sealed at electrical boxes",
    "Anchor bolts spaced more than 2.4 m apart",
    "Cleanout not accessible at base of stack",
    "Attic insulation depth below R-50 at eaves",
    "Exhaust duct from bathroom terminates in attic",
    "Footing width less than shown on approved drawings",
    "Lintel bearing less than 90 mm at garage opening",
]
REMARKS = [
    "Site clean and materials stored on the lot",
    "Contractor on site during the inspection",
    "Engineer's letter for the beam received",
    "Grading to be completed in spring",
    "Temporary railing in place at the deck",
]
FAILURE_REASONS = [
    FailureReason.DEFICIENCIES,
    FailureReason.DEFICIENCIES,
    FailureReason.DEFICIENCIES,
    FailureReason.INFORMATION_REQUIRED,
]

# One stored file stands for every generated permit PDF and inspection report.
SHARED_PERMIT_PDF = "occupancy/bench/generated-permit.pdf"
SHARED_REPORT_PDF = "reports/bench/generated-report.pdf"

# Codes are public identifiers in URLs: 12 characters of core.codes' alphabet. Generated
# ones are a scrambled counter (unique, look random); the app's own random codes are
# 31**12 ≈ 8e17 wide, so a clash with them is not a practical concern.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_CHUNKS = [a + b + c for a in _ALPHABET for b in _ALPHABET for c in _ALPHABET]
_SPACE = 31**12
_MULT = 486_802_372_015_383_105  # ≈ 0.618 × the space, prime to 31: a bijection


def code_for(table_salt: int, counter: int) -> str:
    value = ((table_salt << 40) + counter) * _MULT % _SPACE
    d, c4 = divmod(value, 29791)
    d, c3 = divmod(d, 29791)
    c1, c2 = divmod(d, 29791)
    return _CHUNKS[c1] + _CHUNKS[c2] + _CHUNKS[c3] + _CHUNKS[c4]


def search_text(**fields) -> str:
    """Exactly what Application.save() stores: the model's own build_search_text()."""
    return Application.build_search_text(SimpleNamespace(**fields))


class Generator:
    """Rows for `n` applications of one municipality.

    `ids` holds the first free id per table (rows of an earlier municipality come first);
    `config` the configuration rows created through the ORM: municipality_id, city,
    inspector_ids ({id: name}), inspection type ids by name, permit_type_id,
    template_version_id, the shared PDFs' sha256, the permit number prefix.
    """

    def __init__(
        self, *, n, now, today, config, ids, seed, number_prefix, long_open=0,
        applications_only=False,
    ):  # fmt: skip
        self.n = n
        self.applications_only = applications_only
        self.today = today  # history ends yesterday; only open visits are from today
        self.now = now
        self.cfg = config
        self.ids = ids
        self.rng = random.Random(seed)
        self.number_prefix = number_prefix
        self.long_open = long_open
        self.inspectors = list(config["inspector_ids"])
        self.work = [(w, [s.strip() for s in names.split(",")]) for w, _, names in WORK]
        self.work_weights = [weight for _, weight, _ in WORK]
        self.numbers_per_year: dict[int, int] = {}
        self.permits_per_year: dict[int, int] = {}
        self.long_open_codes: list[str] = []
        self.tables = bulk_tables()
        self.stats = dict.fromkeys(self.tables, 0)

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        self.stats[table] += 1
        return value

    def _at(self, day: dt.date, hour_from=8, hour_to=17) -> dt.datetime:
        minute = self.rng.randrange(hour_from * 60, hour_to * 60)
        return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=UTC)

    def rows(self):
        """(table, values) for COPY into the table's columns; ColumnMismatch when a row's
        keys are not the model's columns."""
        tables = self.tables
        for table, row in self._rows():
            yield table, tables[table].values(row)

    def _rows(self):
        span = 20 * 365
        start = self.today - dt.timedelta(days=span)
        for index in range(self.n):
            forced_long = index >= self.n - self.long_open
            if forced_long:  # recent, under construction, one long history with an open visit
                applied = self.today - dt.timedelta(days=900 + index % 300)
            else:
                applied = start + dt.timedelta(days=index * span // self.n)
            yield from self._application(applied, forced_long)

    def _application(self, applied: dt.date, forced_long: bool):
        rng = self.rng
        cfg = self.cfg
        app_id = self._next("permits_application")
        year = applied.year
        seq = self.numbers_per_year.get(year, 0) + 1
        self.numbers_per_year[year] = seq
        number = f"{self.number_prefix}-{year}-{seq:05}"
        if forced_long:
            work_type, names = self.work[0]
        else:
            work_type, names = rng.choices(self.work, self.work_weights)[0]
        if self.applications_only:
            names = []
        owner_first, owner_last = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
        owner = f"{owner_first} {owner_last}"
        applicant = owner if rng.random() < 0.4 else rng.choice(BUILDERS)
        street = f"{rng.randint(1, 2999)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
        unit = str(rng.randint(101, 1210)) if rng.random() < 0.12 else ""
        postal = (
            f"L{rng.randint(1, 9)}{rng.choice('ABCEGHJKLMNPRSTVXY')} "
            f"{rng.randint(1, 9)}{rng.choice('ABCEGHJKLMNPRSTVWXYZ')}{rng.randint(0, 9)}"
        )
        roll = (
            f"2105 {rng.randint(10, 99):03} {rng.randint(1, 999):03} "
            f"{rng.randint(0, 99999):05} 0000"
        )
        city = cfg["city"]
        issued = applied + dt.timedelta(days=rng.randint(15, 75))
        inspector = rng.choice(self.inspectors)

        activities = [(self._at(applied), "application_received", "Application received", None)]
        permit_numbers = []
        inspections = []  # (status, kind, visits) of each inspection
        t = issued + dt.timedelta(days=rng.randint(10, 90))
        reached_today = False
        long_index = len(names) - 2 if forced_long else -1
        for position, type_name in enumerate(names):
            type_id, kind = cfg["inspection_types"][type_name]
            insp_id = self._next("inspections_inspection")
            insp_code = code_for(1, insp_id)
            visits, findings, orders, permits = [], [], [], []
            if reached_today:
                status = InspectionStatus.NOT_STARTED
            else:
                findings_per_visit = None
                if position == long_index:
                    failures = LONG_VISITS - 1  # closed visits; the open one is the last
                    t = min(t, self.today - dt.timedelta(days=15 * (failures + 2)))
                    # 100 deficiencies over the 39 closed visits, two or three each.
                    findings_per_visit = [
                        LONG_FINDINGS // failures + (i < LONG_FINDINGS % failures)
                        for i in range(failures)
                    ]
                elif rng.random() < 0.0025:
                    failures = rng.randint(20, 40)
                else:
                    failures = min(int(rng.expovariate(0.85)), 8)
                status, t, reached_today = self._visits(
                    insp_id,
                    kind,
                    failures,
                    t,
                    visits,
                    findings,
                    orders,
                    permits,
                    force_open=position == long_index,
                    findings_per_visit=findings_per_visit,
                )
                if position == long_index:
                    self.long_open_codes.append(insp_code)
                    reached_today = True
            created = self._at(min(issued, self.today) - dt.timedelta(days=1))
            assigned = inspector if visits else None
            yield (
                "inspections_inspection",
                {
                    "id": insp_id,
                    "code": insp_code,
                    "status": status,
                    "created_at": created,
                    "updated_at": visits[-1]["started_at"] if visits else created,
                    "application_id": app_id,
                    "assigned_inspector_id": assigned,
                    "created_by_id": inspector,
                    "inspection_type_id": type_id,
                    "cancelled_reason": "",
                    "cancelled_by_id": None,
                    "cancelled_at": None,
                },
            )
            for row in visits:
                yield "inspections_visit", row
                if row["status"] == InspectionStatus.CLOSED:
                    result = row["result"].replace("_", " ")
                    activities.append(
                        (
                            row["closed_at"],
                            "visit_closed",
                            f"{type_name}: visit {row['sequence']} closed, {result}",
                            row["closed_by_id"],
                        )
                    )
            for row in findings:
                yield "inspections_finding", row
            for row in orders:
                yield "inspections_order", row
            inspections.append((status, kind, visits))
            for permit in permits:
                permit_row = self._permit(
                    permit,
                    app_id,
                    number,
                    street,
                    unit,
                    postal,
                    roll,
                    applicant,
                    owner,
                    work_type,
                    type_name,
                )
                yield "occupancy_occupancypermit", permit_row
                permit_numbers.append(permit_row["number"])
                activities.append(
                    (
                        permit_row["issued_at"],
                        "occupancy_permit_issued",
                        f"Occupancy permit {permit_row['number']} issued (General)",
                        permit_row["issued_by_id"],
                    )
                )
            if not reached_today:
                t += dt.timedelta(days=rng.randint(7, 60))

        any_visit = any(v for _, _, v in inspections)
        all_closed = all(s == InspectionStatus.CLOSED for s, _, _ in inspections)
        granted = any(a[1] == "occupancy_permit_issued" for a in activities)
        occupied_on = completed_on = None
        if self.applications_only:  # no inspections: a status from the dates alone
            if issued > self.today:
                app_status = ApplicationStatus.IN_REVIEW
            elif (self.today - applied).days > 730:
                app_status = ApplicationStatus.CLOSED
                completed_on = applied + dt.timedelta(days=rng.randint(300, 700))
            else:
                app_status = ApplicationStatus.CONSTRUCTION_STARTED
        elif all_closed:
            last_day = max(a[0] for a in activities).date()
            if granted:
                occupied_on = next(a[0].date() for a in activities if a[1].startswith("occ"))
            old = (self.today - last_day).days > 365
            app_status = (
                ApplicationStatus.CLOSED
                if old
                else (ApplicationStatus.OCCUPIED if granted else ApplicationStatus.FINISHED)
            )
            finished = (ApplicationStatus.CLOSED, ApplicationStatus.FINISHED)
            completed_on = last_day if app_status in finished else None
        elif any_visit:
            app_status = ApplicationStatus.CONSTRUCTION_STARTED
        elif issued <= self.today:
            app_status = ApplicationStatus.PERMIT_ISSUED
        else:
            app_status = (
                ApplicationStatus.IN_REVIEW if rng.random() < 0.6 else ApplicationStatus.SUBMITTED
            )
        permit_issued_on = issued if issued <= self.today else None
        last_activity = max(a[0] for a in activities)
        for at, verb, summary, actor in [] if self.applications_only else activities:
            yield (
                "permits_activity",
                {
                    "id": self._next("permits_activity"),
                    "verb": verb,
                    "summary": summary[:300],
                    "changes": "{}",
                    "at": at,
                    "actor_id": actor,
                    "application_id": app_id,
                    "municipality_id": cfg["municipality_id"],
                },
            )
        owner_email = f"{owner_first}.{owner_last}@example.com".lower().replace(" ", "")
        row = {
            "id": app_id,
            "number": number,
            "work_type": work_type,
            "description": WORK_DESCRIPTIONS[work_type],
            "street_address": street,
            "unit": unit,
            "city": city,
            "province": "ON",
            "postal_code": postal,
            "roll_number": roll,
            "legal_description": f"Lot {rng.randint(1, 250)}, Plan M-{rng.randint(100, 2400)}",
            "applicant_name": applicant,
            "applicant_email": owner_email if applicant == owner else "permits@example.com",
            "applicant_phone": f"905-555-{rng.randint(0, 9999):04}",
            "owner_name": owner,
            "owner_email": owner_email,
            "owner_phone": f"905-555-{rng.randint(0, 9999):04}",
            "status": app_status,
            "applied_on": applied,
            "permit_issued_on": permit_issued_on,
            "occupied_on": occupied_on,
            "completed_on": completed_on,
            "last_activity_at": last_activity,
            "created_at": self._at(applied),
            "updated_at": last_activity,
            "municipality_id": cfg["municipality_id"],
        }
        if "other_numbers" in self.tables["permits_application"].columns:
            # The numbers other records give it, which search finds (its occupancy permits').
            row["other_numbers"] = " ".join(permit_numbers)
        if "data_quality_notes" in self.tables["permits_application"].columns:
            row["data_quality_notes"] = ""  # entered in Threshold: nothing odd
        if "correspondence_language" in self.tables["permits_application"].columns:
            # English, as the model's default (the pages' cost does not depend on it).
            row["correspondence_language"] = "en-ca"
        # The key from the whole row, as save() computes it from the instance.
        row["search_text"] = search_text(**{**row, "other_numbers": " ".join(permit_numbers)})
        yield "permits_application", row

    def _visits(
        self,
        insp_id,
        kind,
        failures,
        t,
        visits,
        findings,
        orders,
        permits,
        *,
        force_open=False,
        findings_per_visit=None,
    ):
        """Append the inspection's visits (and their findings, orders, permit); return the
        inspection status, the time after it, and whether its timeline reached today."""
        rng = self.rng
        occupancy = kind == InspectionKind.OCCUPANCY
        total = failures + 1
        pending = []  # deficiencies and orders waiting for the next (correcting) visit
        for sequence in range(1, total + 1):
            day = t
            if day >= self.today or (force_open and sequence == total):
                # Today's work: an open visit (a draft), or a revisit not yet booked. What is
                # pending stays outstanding (it is carried over to the open visit).
                if force_open or rng.random() < 0.35:
                    visits.append(
                        {
                            "id": self._next("inspections_visit"),
                            "sequence": sequence,
                            "status": VisitStatus.OPEN,
                            "started_at": self.now - dt.timedelta(hours=rng.randint(1, 6)),
                            "visit_type": VisitType.ON_SITE,
                            "internal_notes": "",
                            "site_conditions": "",
                            "time_used_minutes": None,
                            "result": "",
                            "failure_reason": "",
                            "closed_at": None,
                            "report_pdf": "",
                            "report_sha256": "",
                            "closed_by_id": None,
                            "inspection_id": insp_id,
                            "started_by_id": rng.choice(self.inspectors),
                        }
                    )
                    return InspectionStatus.IN_PROGRESS, day, True
                status = (
                    InspectionStatus.REVISIT_REQUIRED if visits else InspectionStatus.NOT_STARTED
                )
                return status, day, True
            passed = sequence == total
            inspector = rng.choice(self.inspectors)
            visit_id = self._next("inspections_visit")
            started = self._at(day, 8, 15)
            closed = started + dt.timedelta(minutes=rng.randint(20, 110))
            for row, column in pending:  # corrected, or complied with, on this visit
                row[column] = visit_id
            pending = []
            if occupancy:
                if passed:
                    result = (
                        VisitResult.GRANTED_OUTSTANDING
                        if rng.random() < 0.2
                        else VisitResult.GRANTED_FULL
                    )
                else:
                    result = VisitResult.NOT_GRANTED
            else:
                result = VisitResult.PASSED if passed else VisitResult.FAILED
            failing = result in FAILING_RESULTS
            reason = rng.choice(FAILURE_REASONS) if failing else ""
            deficiencies = rng.choice((1, 1, 2, 2, 3, 3)) if failing else 0
            if result == VisitResult.GRANTED_OUTSTANDING:
                deficiencies = 1  # printed on the permit as an outstanding matter
            remarks = rng.choice((0, 0, 0, 0, 1, 1))
            if findings_per_visit and failing:
                deficiencies, remarks = findings_per_visit[sequence - 1], 0
            for index in range(deficiencies + remarks):
                is_remark = index >= deficiencies
                finding_id = self._next("inspections_finding")
                row = {
                    "id": finding_id,
                    "code": code_for(2, finding_id),
                    "discovery_date": day,
                    "description": rng.choice(REMARKS if is_remark else DEFICIENCIES),
                    "is_remark": is_remark,
                    "created_at": closed,
                    "created_by_id": inspector,
                    "corrected_on_visit_id": None,
                    "visit_id": visit_id,
                }
                findings.append(row)
                if failing and not is_remark:
                    pending.append((row, "corrected_on_visit_id"))
            if failing and rng.random() < 0.06:
                order_id = self._next("inspections_order")
                row = {
                    "id": order_id,
                    "code": code_for(3, order_id),
                    "order_type": "order_to_comply",
                    "issued_to": "Owner, see application",
                    "description": "Correct the deficiencies listed in the report.",
                    "comply_by": day + dt.timedelta(days=30),
                    "created_at": closed,
                    "created_by_id": inspector,
                    "complied_on_visit_id": None,
                    "visit_id": visit_id,
                }
                orders.append(row)
                pending.append((row, "complied_on_visit_id"))
            visits.append(
                {
                    "id": visit_id,
                    "sequence": sequence,
                    "status": VisitStatus.CLOSED,
                    "started_at": started,
                    "visit_type": VisitType.ON_SITE,
                    "internal_notes": "",
                    "site_conditions": "",
                    "time_used_minutes": rng.choice((30, 45, 60, 90)),
                    "result": result,
                    "failure_reason": reason,
                    "closed_at": closed,
                    "report_pdf": SHARED_REPORT_PDF,
                    "report_sha256": self.cfg["report_sha256"],
                    "closed_by_id": inspector,
                    "inspection_id": insp_id,
                    "started_by_id": inspector,
                }
            )
            if result in GRANT_RESULTS:
                permits.append((visit_id, sequence, result, closed, inspector))
            t = day + dt.timedelta(days=rng.randint(2, 14) if failing else 0)
        return InspectionStatus.CLOSED, t, False

    def _permit(
        self,
        permit,
        app_id,
        number,
        street,
        unit,
        postal,
        roll,
        applicant,
        owner,
        work_type,
        type_name,
    ):
        visit_id, sequence, result, issued_at, inspector = permit
        cfg = self.cfg
        granted_on = issued_at.date()
        year = granted_on.year
        seq = self.permits_per_year.get(year, 0) + 1
        self.permits_per_year[year] = seq
        permit_number = f"OCC-{year}-{seq:05}"
        full_address = f"{unit}-{street}, {cfg['city']}" if unit else f"{street}, {cfg['city']}"
        snapshot = PermitSnapshot(
            municipality=MunicipalityPart(**cfg["municipality_snapshot"]),
            permit=PermitPart(
                number=permit_number,
                type_name="General",
                kind=PermitKind.GENERAL.value,
                kind_label=PermitKind.GENERAL.label,
                granted_on=granted_on,
                expires_on=None,
                description=WORK_DESCRIPTIONS[work_type],
                portion_of_building="",
                result=result,
                result_label=VisitResult(result).label,
                issued_at=issued_at,
            ),
            application=ApplicationPart(
                number=number,
                full_address=full_address,
                street_address=street,
                unit=unit,
                city=cfg["city"],
                province="ON",
                postal_code=postal,
                roll_number=roll,
                legal_description="",
                work_type_label=WorkType(work_type).label,
                description=WORK_DESCRIPTIONS[work_type],
                applicant_name=applicant,
                owner_name=owner,
            ),
            inspection=InspectionPart(type_name=type_name),
            visit=VisitPart(
                sequence=sequence,
                inspector_name=cfg["inspector_ids"][inspector],
                closed_at=issued_at,
            ),
            outstanding_matters=(),
            conditions=BENCH_CONDITIONS,
        )
        return {
            "id": self._next("occupancy_occupancypermit"),
            "number": permit_number,
            "result": result,
            "granted_on": granted_on,
            "expires_on": None,
            "description": WORK_DESCRIPTIONS[work_type],
            "portion_of_building": "",
            "snapshot": json.dumps(snapshot.to_json()),
            "pdf": SHARED_PERMIT_PDF,
            "pdf_sha256": cfg["permit_sha256"],
            "issued_at": issued_at,
            "status": PermitStatus.ISSUED,
            "language": "en-ca",  # an English permit (its template and snapshot are)
            "application_id": app_id,
            "issued_by_id": inspector,
            "municipality_id": cfg["municipality_id"],
            "visit_id": visit_id,
            "template_version_id": cfg["template_version_id"],
            "permit_type_id": cfg["permit_type_id"],
        }
