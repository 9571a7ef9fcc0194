"""Demo data for `manage.py seed_demo`: compact tables and a pure generator (no database).

Everything is derived from the tables below and one random.Random(2026), relative to the
fixed date DEMO_TODAY, so every run yields the same numbers, addresses and dates: the
natural keys (application numbers) never drift, whatever day the command runs.
"""

import datetime as dt
import random
import unicodedata

from core.models import Role
from inspections.models import (
    BldsInspectionType,
    FailureReason,
    InspectionKind,
    InspectionStatus,
    OrderType,
    VisitResult,
)
from occupancy.models import PermitKind, PermitLanguage
from permits.models import ApplicationStatus, WorkType

DEMO_TODAY = dt.date(2026, 11, 24)
SEED = 2026

MUNICIPALITIES = [
    {
        "slug": "town-of-example",
        "name": "Town of Example",
        "department_name": "Building Department",
        "street_address": "100 Queen Street West",
        "city": "Example",
        "province": "ON",
        "postal_code": "L7R 3Y4",
        "phone": "905-555-0100",
        "email": "building@example.com",
        "website": "https://www.example.com/building",
        "chief_building_official": "Karen MacLeod",
        "chief_building_official_title": "Chief Building Official",
    },
    {
        "slug": "township-of-sample",
        "name": "Township of Sample",
        "department_name": "Building Services",
        "street_address": "5 Township Hall Road, P.O. Box 40",
        "city": "Sampleford",
        "province": "ON",
        "postal_code": "P0B 1J0",
        "phone": "705-555-0150",
        "email": "building@example.org",
        "website": "https://www.example.org",
        "chief_building_official": "Robert Lindqvist",
        "chief_building_official_title": "Chief Building Official",
    },
]

# username, first name, last name, municipality slug, role (None: no membership)
USERS = [
    ("admin", "Sandra", "Whitfield", None, None),
    ("inspector", "Daniel", "Okafor", "town-of-example", Role.INSPECTOR),
    ("clerk", "Priya", "Raman", "town-of-example", Role.CLERK),
    ("viewer", "Margaret", "Chen", "town-of-example", Role.VIEWER),
    ("inspector2", "Luc", "Tremblay", "township-of-sample", Role.INSPECTOR),
    ("chief", "Karen", "MacLeod", "town-of-example", Role.CHIEF_BUILDING_OFFICIAL),
    # Municipal administrators: each town's own permit types, templates, checklists,
    # inspection types, letterhead and people, in the admin.
    ("townadmin", "Grace", "Whitaker", "town-of-example", Role.MUNICIPAL_ADMIN),
    ("sampleadmin", "Owen", "Gallagher", "township-of-sample", Role.MUNICIPAL_ADMIN),
]
SUPERUSERS = {"admin"}

B = BldsInspectionType
# name, kind, BLDS mapped type, display order: the same list in every municipality.
INSPECTION_TYPES = [
    ("Footings", InspectionKind.GENERAL, B.FOOTINGS_FORMS, 10),
    ("Foundation", InspectionKind.GENERAL, B.FOUNDATION, 20),
    ("Framing", InspectionKind.GENERAL, B.FRAME, 30),
    ("Insulation and vapour barrier", InspectionKind.GENERAL, B.PROGRESS_CHECK, 40),
    ("Plumbing rough-in", InspectionKind.GENERAL, B.ROUGH_IN, 50),
    ("HVAC rough-in", InspectionKind.GENERAL, B.DUCT_WORK, 60),
    ("Fire separations", InspectionKind.GENERAL, B.PROGRESS_CHECK, 70),
    ("Final plumbing", InspectionKind.GENERAL, B.PLUMBING_FINAL, 80),
    ("Occupancy", InspectionKind.OCCUPANCY, B.BUILDING_FINAL, 90),
    ("Partial occupancy", InspectionKind.OCCUPANCY, B.PARTIAL_TEMP_BUILDING_FINAL, 100),
    ("Final", InspectionKind.GENERAL, B.BUILDING_FINAL, 110),
]

# Occupancy permit types; both share the "occupancy" sequence, so numbers never collide.
PERMIT_TYPES = [
    {"name": "General", "kind": PermitKind.GENERAL, "needs_portion_of_building": False},
    {"name": "Partial", "kind": PermitKind.PARTIAL, "needs_portion_of_building": True},
    # Issue 18: a French user issues a French permit, or a bilingual one (one sequence of
    # numbers with the English types: the language does not make another series).
    {
        "name": "Général",
        "kind": PermitKind.GENERAL,
        "language": PermitLanguage.FRENCH,
        "needs_portion_of_building": False,
    },
    {
        "name": "Partielle",
        "kind": PermitKind.PARTIAL,
        "language": PermitLanguage.FRENCH,
        "needs_portion_of_building": True,
    },
    {
        "name": "General / Général",
        "kind": PermitKind.GENERAL,
        "language": PermitLanguage.BILINGUAL,
        "needs_portion_of_building": False,
    },
]
PERMIT_TYPE_DEFAULTS = {
    "language": PermitLanguage.ENGLISH,
    "prefix": "OCC",
    "number_format": "{prefix}-{year}-{seq:04}",
    "sequence_key": "occupancy",
    "restart_each_year": True,
    "needs_expiry_date": False,
    "is_active": True,
}
# The inspections that must have passed before occupancy is granted (occupancy.rules), by
# type of work: for a new house, everything up to the final plumbing; the Final inspection
# comes with the occupancy inspection itself.
REQUIRED_BEFORE_OCCUPANCY = {
    "new": [
        "Footings",
        "Foundation",
        "Framing",
        "Plumbing rough-in",
        "HVAC rough-in",
        "Insulation and vapour barrier",
        "Final plumbing",
    ],
    "addition": ["Footings", "Foundation", "Framing", "Insulation and vapour barrier"],
}

# template name, permit type name, file in occupancy/default_templates/
PERMIT_TEMPLATES = [
    ("General occupancy permit", "General", "general.html"),
    ("Partial occupancy permit", "Partial", "partial.html"),
    ("Permis d'occupation général", "Général", "general_fr.html"),
    ("Permis d'occupation partielle", "Partielle", "partial_fr.html"),
    (
        "General occupancy permit / Permis d'occupation général",
        "General / Général",
        "general_bilingual.html",
    ),
]

# The occupancy checklists of the French types, in French: (clause, text) in the order of
# occupancy.checklists' English ones (HOUSE for a general permit, BEFORE_COMPLETION for a
# partial one), whose clauses they paraphrase. A bilingual type prints each condition in
# English, then in French.
FRENCH_CHECKLISTS = {
    PermitKind.GENERAL: [
        ("Div. C 1.3.3.4.(4)a)", "La structure du logement est essentiellement terminée."),
        (
            "Div. C 1.3.3.4.(4)b)",
            "L'enveloppe du bâtiment est essentiellement terminée : revêtement extérieur, "
            "couverture, fenêtres, portes, ensembles et dispositifs d'obturation résistant au "
            "feu, isolant, pare-vapeur et pare-air.",
        ),
        (
            "Div. C 1.3.3.4.(4)c)",
            "Les murs qui entourent le logement sont conformes au paragraphe 9.25.2.3.(7) de "
            "la division B.",
        ),
        ("Div. C 1.3.3.4.(4)d)", "L'alimentation électrique exigée est fournie."),
        (
            "Div. C 1.3.3.4.(4)e)",
            "Les voies d'accès pour la lutte contre l'incendie sont aménagées et accessibles.",
        ),
        (
            "Div. C 1.3.3.4.(4)f) issues",
            "Les issues exigées et les moyens d'évacuation du logement sont terminés et "
            "fonctionnels.",
        ),
        (
            "Div. C 1.3.3.4.(4)f) garde-corps",
            "Les mains courantes et les garde-corps exigés sont installés dans les escaliers, "
            "sur les paliers, les balcons et les planchers surélevés.",
        ),
        (
            "Div. C 1.3.3.4.(4)f) avertisseurs",
            "Les avertisseurs de fumée et de monoxyde de carbone sont installés et fonctionnels.",
        ),
        (
            "Div. C 1.3.3.4.(4)f) plomberie",
            "Les appareils sanitaires, l'alimentation en eau, le drainage et la ventilation "
            "de la plomberie sont terminés et fonctionnels.",
        ),
        (
            "Div. C 1.3.3.4.(4)f) égout",
            "L'égout du bâtiment est raccordé à l'égout municipal ou à un système autonome de "
            "traitement des eaux d'égout approuvé et fonctionnel.",
        ),
        (
            "Div. C 1.3.3.4.(4)f) chauffage",
            "L'installation de chauffage et la ventilation mécanique exigée sont terminées et "
            "fonctionnelles.",
        ),
    ],
    PermitKind.PARTIAL: [
        (
            "Div. C 1.3.3.1.(3)a)",
            "La structure, ou la partie à occuper, est terminée jusqu'au toit.",
        ),
        ("Div. C 1.3.3.1.(3)b)", "Les murs extérieurs sont terminés jusqu'au toit."),
        (
            "Div. C 1.3.3.1.(3)c)",
            "Les murs qui entourent l'aire à occuper sont terminés, y compris les garde-corps "
            "des balcons.",
        ),
        (
            "Div. C 1.3.3.1.(3)d)",
            "Les séparations coupe-feu et les dispositifs d'obturation exigés sont terminés à "
            "chaque étage à occuper.",
        ),
        (
            "Div. C 1.3.3.1.(3)e)",
            "Les issues exigées sont terminées depuis l'étage le plus élevé à occuper jusqu'au "
            "niveau du sol, avec leurs séparations coupe-feu, portes, quincaillerie, "
            "dispositifs de fermeture automatique, garde-corps et mains courantes.",
        ),
        (
            "Div. C 1.3.3.1.(3)f)",
            "Les gaines sont terminées jusqu'à l'ensemble plancher-plafond situé au-dessus de "
            "l'étage à occuper, avec une séparation coupe-feu temporaire à cet endroit.",
        ),
        (
            "Div. C 1.3.3.1.(3)g)",
            "L'accès aux parties inachevées du bâtiment et du chantier est empêché.",
        ),
        (
            "Div. C 1.3.3.1.(3)h)",
            "Les planchers, corridors, halls et moyens d'évacuation sont libres de matériaux "
            "non fixés et de tout danger.",
        ),
        (
            "Div. C 1.3.3.1.(3)i)",
            "Les locaux techniques en service ont leurs séparations coupe-feu et dispositifs "
            "d'obturation exigés.",
        ),
        (
            "Div. C 1.3.3.1.(3)j)",
            "Les drains, égouts, l'alimentation en eau, le drainage et la ventilation qui "
            "desservent les étages à occuper sont terminés et leur fonctionnement a été vérifié "
            "par des essais.",
        ),
        (
            "Div. C 1.3.3.1.(3)k)",
            "L'éclairage, le chauffage et le service électrique exigés sont fournis dans la "
            "partie occupée.",
        ),
        (
            "Div. C 1.3.3.1.(3) alarme incendie",
            "Les systèmes d'alarme et de détection d'incendie qui desservent la partie occupée "
            "sont terminés et fonctionnels.",
        ),
        (
            "Div. C 1.3.3.1.(3) gicleurs",
            "Les réseaux de canalisations d'incendie et de gicleurs qui desservent la partie "
            "occupée sont terminés et fonctionnels.",
        ),
    ],
}

# The general inspections each kind of work needs, in the order they happen on site.
WORK_INSPECTIONS = {
    key: names.split(", ")
    for key, names in {
        "new": "Footings, Foundation, Framing, Plumbing rough-in, HVAC rough-in, "
        "Insulation and vapour barrier, Final plumbing, Final",
        "new_multi": "Footings, Foundation, Framing, Plumbing rough-in, HVAC rough-in, "
        "Insulation and vapour barrier, Fire separations, Final plumbing, Final",
        "addition": "Footings, Foundation, Framing, Insulation and vapour barrier, Final",
        "alteration": "Framing, Plumbing rough-in, Insulation and vapour barrier, "
        "Final plumbing, Final",
        "change_of_use": "Fire separations, Final",
        "accessory": "Footings, Framing, Final",
        "demolition": "Final",
        "plumbing": "Plumbing rough-in, Final plumbing",
        "hvac": "HVAC rough-in, Final",
        "septic": "Final",
    }.items()
}

# One row per application: status, kind of work, results of the inspections so far in site
# order (P passed, X failed then passed on visit 2, F failed: a new visit is required, |
# construction paused for a few months), occupancy inspections already added (O: Occupancy,
# P: Partial occupancy).
S = ApplicationStatus
TOWN_APPLICATIONS = [
    (S.SUBMITTED, "new", "", ""),
    (S.SUBMITTED, "alteration", "", ""),
    (S.SUBMITTED, "accessory", "", ""),
    (S.SUBMITTED, "addition", "", ""),
    (S.IN_REVIEW, "new", "", ""),
    (S.IN_REVIEW, "new_multi", "", ""),
    (S.IN_REVIEW, "change_of_use", "", ""),
    (S.IN_REVIEW, "alteration", "", ""),
    (S.PERMIT_ISSUED, "new", "", ""),
    (S.PERMIT_ISSUED, "addition", "", ""),
    (S.PERMIT_ISSUED, "accessory", "", ""),
    (S.PERMIT_ISSUED, "plumbing", "", ""),
    (S.CONSTRUCTION_STARTED, "new", "P", ""),
    (S.CONSTRUCTION_STARTED, "new", "PP", ""),
    (S.CONSTRUCTION_STARTED, "new", "PX", ""),
    (S.CONSTRUCTION_STARTED, "new", "PPX", ""),
    (S.CONSTRUCTION_STARTED, "new", "PPXPP", ""),
    (S.CONSTRUCTION_STARTED, "new", "PP|XPPPP", "O"),
    (S.CONSTRUCTION_STARTED, "new", "PXPPXPP", "O"),
    (S.CONSTRUCTION_STARTED, "new", "PPPPPPF", "O"),
    (S.CONSTRUCTION_STARTED, "new", "PP|PPPXP", ""),
    (S.CONSTRUCTION_STARTED, "new_multi", "PPXPPPF", "O"),
    (S.CONSTRUCTION_STARTED, "new_multi", "PPXPPPXP", "OP"),
    (S.CONSTRUCTION_STARTED, "addition", "PPX", ""),
    (S.CONSTRUCTION_STARTED, "alteration", "PF", ""),
    (S.CONSTRUCTION_STARTED, "change_of_use", "P", "O"),
    (S.OCCUPIED, "new", "PPPXPPP", ""),
    (S.FINISHED, "accessory", "PPP", ""),
    (S.FINISHED, "demolition", "P", ""),
    (S.CLOSED, "alteration", "", ""),
    # Ready for occupancy: every required inspection passed, an Occupancy inspection waiting.
    (S.CONSTRUCTION_STARTED, "new", "PPPPPPP", "O"),
]
TOWNSHIP_APPLICATIONS = [
    (S.SUBMITTED, "new", "", ""),
    (S.IN_REVIEW, "septic", "", ""),
    (S.PERMIT_ISSUED, "accessory", "", ""),
    (S.CONSTRUCTION_STARTED, "new", "PPX", ""),
    (S.CONSTRUCTION_STARTED, "new", "PP|PXPPP", "O"),
    (S.CONSTRUCTION_STARTED, "addition", "PF", ""),
    (S.OCCUPIED, "new", "PXPPPPP", ""),
    (S.FINISHED, "hvac", "PP", ""),
]

# Where each municipality's applications are: communities (repeated to weight the draw) with
# their postal code areas (a rural code is shared by the whole community), streets,
# roll-number prefix, area codes, application number format with the first number of each
# year.
PLACES = {
    "town-of-example": {
        "applications": TOWN_APPLICATIONS,
        "communities": [
            ("Example", ["L7R", "L7S", "L7T"]),
            ("Example", ["L7R", "L7S"]),
            ("Example", ["L7T"]),
            ("Port Example", ["L0R 1K0"]),
        ],
        "streets": (
            "Maple Crescent, Queen Street, Elgin Street, Brant Street, Lakeshore Road, "
            "Orchard Drive, Birch Avenue, Victoria Street, Mill Street, Wellington Street, "
            "Cedar Ridge Court, Heritage Way, Pine Valley Drive, Sumac Lane, Riverside Drive, "
            "Church Street, Hawthorne Avenue, Harbour View Road"
        ).split(", "),
        "roll_prefix": "2402",
        "area_codes": ["905", "289", "365"],
        "number_format": "B-{year}-{seq:04}",
        "first_numbers": {2025: 388, 2026: 12},
        "number_step": (3, 14),
        "plans": ["M-1234", "M-1187", "20M-1045", "552", "M-1302"],
    },
    "township-of-sample": {
        "applications": TOWNSHIP_APPLICATIONS,
        "communities": [
            ("Sampleford", ["P0B 1J0"]),
            ("Sample Corners", ["P0B 1M0"]),
            ("Cedar Point", ["P0C 1H0"]),
        ],
        "streets": (
            "Concession 6 Road, Sideroad 15, Cedar Point Road, Township Road 3, Lakeview Drive, "
            "Old Mill Road, Hemlock Trail, Beaver Creek Road, Fire Route 12, Pine Street"
        ).split(", "),
        "roll_prefix": "4415",
        "area_codes": ["705", "249"],
        "number_format": "BP-{year}-{seq:03}",
        "first_numbers": {2025: 61, 2026: 4},
        "number_step": (1, 5),
        "plans": ["M-412", "27", "M-508"],
    },
}

GIVEN_NAMES = (
    "Sarah, David, Priya, Mohammed, Jennifer, Michael, Aisha, Liam, Emily, Wei, Olivia, Daniel, "
    "Fatima, Ryan, Chloe, Arjun, Nicole, Jean-François, Hannah, Kevin, Mei, Thomas, Amanda, "
    "Omar, Rebecca, Gurpreet, Sophie, Marco"
).split(", ")
SURNAMES = (
    "Thompson, Nguyen, MacDonald, Patel, Singh, Tremblay, Campbell, Wilson, O'Brien, Chen, "
    "Fraser, Kowalski, Rossi, Anderson, Lalonde, Hussain, Murray, Gill, Boucher, Stewart, Kim, "
    "Fernandes, Morrison, Ahmed, Sullivan, Dubois, Van der Berg"
).split(", ")
# Who applies for which work when it is not the owner.
CONTRACTORS = {
    "new": [
        "Maplewood Homes Inc.",
        "Lakeview Custom Builders Ltd.",
        "Ferreira Construction Ltd.",
        "Northshore Design Build Inc.",
    ],
    "addition": ["Heritage Renovations Ltd.", "Ferreira Construction Ltd."],
    "alteration": ["Heritage Renovations Ltd.", "Bayside Basements Inc."],
    "change_of_use": ["Studio North Architects Inc."],
    "accessory": ["Backyard Decks & Fences"],
    "demolition": ["Clearway Demolition Ltd."],
    "plumbing": ["Greenline Plumbing & Drains"],
    "hvac": ["Comfort Air Mechanical Ltd."],
    "septic": ["Sample Septic Services"],
}
NUMBERED_COMPANIES = ["2718443 Ontario Inc.", "1000234 Ontario Ltd."]

WORK_TYPES = {"new_multi": "new"}  # several dwelling units: fire separations too
DESCRIPTIONS = {
    "new": [
        "Construct a two-storey single detached dwelling with attached two-car garage and "
        "unfinished basement (approx. 232 m²).",
        "Construct a one-storey bungalow with walkout basement and attached garage.",
        "Construct a two-storey single detached dwelling with covered front porch and rear "
        "deck (approx. 198 m²).",
        "Construct a 1½-storey single detached dwelling on slab with attached single garage.",
    ],
    "new_multi": [
        "Construct a two-storey semi-detached dwelling (2 units) with attached garages.",
        "Construct a block of 6 two-storey townhouse units with fire separations between units.",
    ],
    "addition": [
        "Construct a one-storey rear addition (28 m²) on crawl space to enlarge the kitchen.",
        "Construct a second-storey addition over the existing attached garage (two bedrooms "
        "and a bathroom).",
        "Construct a one-storey sunroom addition on helical piers at the rear of the dwelling.",
    ],
    "alteration": [
        "Finish basement: recreation room, three-piece bathroom and bedroom with a new egress "
        "window.",
        "Create a secondary suite (basement apartment) in an existing single detached dwelling.",
        "Interior renovation: remove load-bearing wall between kitchen and dining room; new "
        "LVL beam.",
    ],
    "change_of_use": [
        "Change of use from retail store to restaurant (40 seats), including new barrier-free "
        "washrooms.",
        "Change of use of the ground floor from office to a daycare centre.",
    ],
    "accessory": [
        "Construct a detached garage, 6.1 m x 7.3 m, with a storage loft.",
        "Construct a 3.6 m x 4.8 m deck at the rear of the dwelling, 1.2 m above grade.",
        "Construct a detached accessory building (pool house, 18 m²).",
    ],
    "demolition": ["Demolish existing one-storey dwelling and detached garage; cap services."],
    "plumbing": ["Replace building sewer and water service; install a backwater valve."],
    "hvac": ["Replace oil furnace with an air-source heat pump and new ductwork."],
    "septic": [
        "Install a new Class 4 sewage system (raised filter bed) to replace a failed system."
    ],
}

# Deficiencies an inspector writes up at each inspection; remarks on passed visits.
DEFICIENCIES = {
    "Footings": [
        "Footing forms on the north side are not on undisturbed soil; excavate to "
        "native soil and re-form before pouring."
    ],
    "Foundation": [
        "Dampproofing missing below grade on the rear wall; apply before backfilling.",
        "Foundation drain at the south-east corner is not covered with 150 mm of crushed stone.",
    ],
    "Framing": [
        "Hurricane ties missing at the roof trusses along the rear wall; install as "
        "shown on the truss layout.",
        "Floor joist under the main bathroom notched more than one third of its depth; "
        "reinforce as detailed by the engineer.",
        "Lintel over the garage door is undersized; provide the engineered beam detail.",
    ],
    "Plumbing rough-in": [
        "Drain-waste-vent system does not hold the water test; locate and "
        "repair the leak, then re-test.",
        "Cleanout missing at the base of the soil stack.",
    ],
    "HVAC rough-in": [
        "Supply duct in the garage is not sealed and insulated.",
        "Bathroom exhaust fan is not ducted to the exterior.",
    ],
    "Insulation and vapour barrier": [
        "Vapour barrier not sealed at electrical boxes on the second-floor exterior walls.",
        "Rim joist insulation missing in the basement.",
    ],
    "Fire separations": ["Penetrations in the fire separation between units are not fire-stopped."],
    "Final plumbing": [
        "Backwater valve is not accessible; provide an access cover.",
        "Temperature-limiting device missing on the bathtub supply.",
    ],
    "Final": ["Handrail missing on the exterior stairs at the front entrance."],
}
REMARKS = [
    "Engineer's field review report received on site.",
    "Site is tidy; silt fence in place along the road allowance.",
    "Builder's site supervisor present during the inspection.",
    "Truss drawings and layout were available on site.",
]
SITE_CONDITIONS = (
    "Dry, overcast, 6 °C; Sunny, 18 °C; Light rain, 11 °C; Clear and cold, -4 °C; "
    "Windy, 9 °C, site muddy; Snow cover, -8 °C"
).split("; ")
ORDER_NOT_TO_COVER = (
    "Do not cover or enclose the fire separations between units until all "
    "penetrations are fire-stopped and re-inspected."
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _email(name: str, domain: str) -> str:
    local = "".join(c for c in _ascii(name).lower() if c.isalnum() or c in ". ")
    return f"{'.'.join(local.split())}@{domain}"


def _postal_code(rng: random.Random, area: str) -> str:
    if " " in area:  # a rural community's single code
        return area
    letters = "ABCEGHJKLMNPRSTVWXYZ"
    return f"{area} {rng.randint(1, 9)}{rng.choice(letters)}{rng.randint(0, 9)}"


def _weekday(day: dt.date) -> dt.date:
    """Inspectors do not visit on weekends: Saturday moves back, Sunday forward."""
    return day + dt.timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A naive local wall-clock time; the command makes it aware in the project's zone."""
    return dt.datetime.combine(day, dt.time(hour, minute))


def _people(rng: random.Random, key: str, place: dict):
    given, surname = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
    if key == "change_of_use":
        owner = rng.choice(NUMBERED_COMPANIES)
        owner_email = _email(owner.split()[0] + " ontario", "example.net")
    elif rng.random() < 0.4:
        partner = rng.choice([g for g in GIVEN_NAMES if g != given])
        owner = f"{given} & {partner} {surname}"
        owner_email = _email(f"{given} {surname}", "example.com")
    else:
        owner = f"{given} {surname}"
        owner_email = _email(owner, "example.com")
    area = rng.choice(place["area_codes"])
    owner_phone = f"{area}-555-{rng.randint(100, 199):04d}"
    if key in ("new", "new_multi") or rng.random() < 0.5:
        applicant = rng.choice(CONTRACTORS[key if key != "new_multi" else "new"])
        applicant_email = _email(applicant.split(" Inc")[0].split(" Ltd")[0], "example.net")
        applicant_phone = f"{rng.choice(place['area_codes'])}-555-{rng.randint(100, 199):04d}"
    else:
        applicant, applicant_email, applicant_phone = owner, owner_email, owner_phone
        if " & " in owner:
            applicant = f"{given} {surname}"
    return {
        "owner_name": owner,
        "owner_email": owner_email,
        "owner_phone": owner_phone,
        "applicant_name": applicant,
        "applicant_email": applicant_email,
        "applicant_phone": applicant_phone,
    }


def _schedule(rng: random.Random, results: str) -> list[list[int]]:
    """Days from the first visit to each visit, per inspection in site order."""
    schedule, day = [], 0
    for code in results:
        if code == "|":
            day += rng.randint(90, 150)  # construction paused
            continue
        days = [day]
        if code == "X":
            day += rng.randint(3, 8)
            days.append(day)
        schedule.append(days)
        day += rng.randint(5, 16)
    return schedule


def _inspections(rng, key, results, schedule, first_day: dt.date, added_at) -> list[dict]:
    inspections = []
    for index, name in enumerate(WORK_INSPECTIONS[key]):
        code = results[index] if index < len(results) else ""
        visits = []
        for sequence, offset in enumerate(schedule[index] if code else [], start=1):
            day = _weekday(first_day + dt.timedelta(days=offset))
            visits.append(_visit(rng, name, sequence, day, passed=code == "P" or sequence == 2))
        if code == "X":  # visit 2 found the deficiency corrected and the order complied with
            visits[0]["findings"][0]["corrected_on_sequence"] = 2
            for order in visits[0]["orders"]:
                order["complied_on_sequence"] = 2
        status = {"": InspectionStatus.NOT_STARTED, "F": InspectionStatus.REVISIT_REQUIRED}.get(
            code, InspectionStatus.CLOSED
        )
        inspections.append({"type": name, "status": status, "added_at": added_at, "visits": visits})
    return inspections


def _visit(rng, type_name: str, sequence: int, day: dt.date, *, passed: bool) -> dict:
    start_hour, start_minute = rng.randint(8, 15), rng.choice([0, 15, 30, 45])
    minutes = rng.choice([20, 30, 30, 45, 45, 60])
    findings = []
    if not passed:
        findings.append(_finding(rng.choice(DEFICIENCIES[type_name]), day, remark=False))
    elif rng.random() < 0.25:
        findings.append(_finding(rng.choice(REMARKS), day, remark=True))
    orders = []
    if not passed and type_name == "Fire separations":
        orders.append(
            {
                "order_type": OrderType.ORDER_NOT_TO_COVER,
                "description": ORDER_NOT_TO_COVER,
                "comply_by": day + dt.timedelta(days=14),
                "complied_on_sequence": None,
            }
        )
    return {
        "sequence": sequence,
        "started_at": _at(day, start_hour, start_minute),
        "closed_at": _at(day, start_hour, start_minute)
        + dt.timedelta(minutes=minutes + rng.randint(5, 20)),
        "time_used_minutes": minutes,
        "site_conditions": rng.choice(SITE_CONDITIONS),
        "result": VisitResult.PASSED if passed else VisitResult.FAILED,
        "failure_reason": "" if passed else FailureReason.DEFICIENCIES,
        "findings": findings,
        "orders": orders,
    }


def _finding(description: str, day: dt.date, *, remark: bool) -> dict:
    return {
        "description": description,
        "is_remark": remark,
        "discovery_date": day,
        "corrected_on_sequence": None,  # set when a later visit corrects it
    }


def _timeline(rng, status, key, results, extra) -> dict:
    """Dates working back from DEMO_TODAY, so they always fit the status and each other."""
    days = dt.timedelta
    out = {"permit_issued_on": None, "occupied_on": None, "completed_on": None, "inspections": []}
    if status in (S.SUBMITTED, S.IN_REVIEW, S.CLOSED):
        back = {S.SUBMITTED: (1, 21), S.IN_REVIEW: (10, 45), S.CLOSED: (300, 400)}[status]
        applied = DEMO_TODAY - days(rng.randint(*back))
        touched = min(applied + days(0 if status == S.SUBMITTED else rng.randint(2, 9)), DEMO_TODAY)
        out.update(applied_on=applied, last_activity=_at(touched, rng.randint(9, 15), 20))
        return out
    if status == S.PERMIT_ISSUED:
        issued = _weekday(DEMO_TODAY - days(rng.randint(3, 40)))
        added_at = _at(issued, 11, rng.choice([0, 15, 30]))
        out.update(
            applied_on=issued - days(rng.randint(8, 28)),
            permit_issued_on=issued,
            last_activity=added_at,
            inspections=_inspections(rng, key, "", [], issued, added_at),
        )
        return out
    schedule = _schedule(rng, results)
    results = results.replace("|", "")
    window = {S.CONSTRUCTION_STARTED: (0, 20), S.OCCUPIED: (150, 300), S.FINISHED: (15, 90)}
    if key == "accessory" and status == S.FINISHED:
        window[status] = (330, 400)
    last = DEMO_TODAY - days(rng.randint(*window[status]))
    first = last - days(schedule[-1][-1])
    issued = _weekday(first - days(rng.randint(10, 35)))
    added_at = _at(issued, 11, rng.choice([0, 15, 30]))
    inspections = _inspections(rng, key, results, schedule, first, added_at)
    last_visit = max((v for i in inspections for v in i["visits"]), key=lambda v: v["closed_at"])
    last_day, last_activity = last_visit["closed_at"].date(), last_visit["closed_at"]
    for code in extra:
        added = _at(min(last_day + days(rng.randint(0, 3)), DEMO_TODAY), 14, 5)
        name = {"O": "Occupancy", "P": "Partial occupancy"}[code]
        inspections.append(
            {"type": name, "status": InspectionStatus.NOT_STARTED, "added_at": added, "visits": []}
        )
        last_activity = max(last_activity, added)
    if status == S.OCCUPIED:
        out["occupied_on"] = min(last_day + days(rng.randint(2, 9)), DEMO_TODAY)
        last_activity = _at(out["occupied_on"], 15, 0)
    if status == S.FINISHED:
        out["completed_on"] = last_day
    out.update(
        applied_on=issued - days(rng.randint(8, 30)),
        permit_issued_on=issued,
        last_activity=last_activity,
        inspections=inspections,
    )
    return out


def _application(rng: random.Random, place: dict, status, key, results, extra) -> dict:
    """One demo application (without its number): its place, people and timeline."""
    city, areas = rng.choice(place["communities"])
    street_name = rng.choice(place["streets"])
    rural = street_name.endswith(("Road", "Sideroad 15", "Trail", "Route 12"))
    street = f"{rng.randint(1000, 9800) if rural else rng.randint(1, 480)} {street_name}"
    if key == "change_of_use":
        unit = rng.choice(["101", "2"])
    else:
        unit = rng.choice(["B", "2", "4"]) if rng.random() < 0.12 else ""
    plan = rng.choice(place["plans"])
    legal = rng.choice(
        [
            f"Lot {rng.randint(1, 140)}, Plan {plan}",
            f"Block {rng.randint(1, 60)}, Plan {plan}",
            f"Part Lot {rng.randint(1, 30)}, Concession {rng.randint(1, 9)}, "
            f"Part {rng.randint(1, 4)} on Plan 43R-{rng.randint(10000, 39999)}",
        ]
    )
    roll = (
        f"{place['roll_prefix']} {rng.randint(1, 4) * 10:03d} "
        f"{rng.randint(1, 99) * 10:03d} {rng.randint(1, 3000) * 10:05d} 0000"
    )
    return {
        "status": status,
        "work_type": WorkType(WORK_TYPES.get(key, key)),
        "description": rng.choice(DESCRIPTIONS[key]),
        "street_address": street,
        "unit": unit,
        "city": city,
        "province": "ON",
        "postal_code": _postal_code(rng, rng.choice(areas)),
        "roll_number": roll,
        "legal_description": legal,
        **_people(rng, key, place),
        **_timeline(rng, status, key, results, extra),
    }


def build_applications(municipality_slug: str, rng: random.Random) -> list[dict]:
    """The demo applications of one municipality, numbered in the order they were applied."""
    place = PLACES[municipality_slug]
    applications = []
    for status, key, results, extra in place["applications"]:
        application = _application(rng, place, status, key, results, extra)
        applications.append(application)
    applications.sort(key=lambda a: (a["applied_on"], a["street_address"]))
    next_number = dict(place["first_numbers"])
    for application in applications:
        year = application["applied_on"].year
        application["number"] = place["number_format"].format(year=year, seq=next_number[year])
        next_number[year] += rng.randint(*place["number_step"])
    return applications


# Issue 13: applications occupied with outstanding matters, so the Work view's Outstanding
# matters section and the list's "With overdue matters" filter show something. Their own
# random stream and fixed numbers keep the applications above exactly as they were. Every
# inspection required before occupancy has passed; seed_demo then runs the Occupancy visit
# through the real services and issues a General permit "Granted, but outstanding matters".
OUTSTANDING_SEED = 2613
OUTSTANDING_MATTERS = {
    "town-of-example": [
        {
            # A deficiency and an order recorded on the occupancy visit itself.
            "seq": 901,
            "deficiency": "Guard missing on the rear deck stairs (four risers, 0.9 m above grade).",
            "order": "Install a guard on the rear deck stairs as required by Div. B 9.8.8.",
            "comply_in_days": 30,
        },
        {
            # An order from the Framing visit, past its comply-by date, carried forward.
            "seq": 902,
            "framing_order": "Submit the engineer's field review report for the LVL beam over "
            "the garage door opening.",
        },
    ],
}


def build_occupied_with_matters(municipality_slug: str) -> list[dict]:
    """The applications of OUTSTANDING_MATTERS, ready for occupancy (an Occupancy inspection
    not started yet), each with an "outstanding" entry saying what the occupancy visit
    records; an order left open on the Framing visit is due ten days after it, long past."""
    place = PLACES[municipality_slug]
    rng = random.Random(OUTSTANDING_SEED)
    applications = []
    for spec in OUTSTANDING_MATTERS.get(municipality_slug, []):
        application = _application(rng, place, S.CONSTRUCTION_STARTED, "new", "PPPPPPP", "O")
        year = application["applied_on"].year
        application["number"] = place["number_format"].format(year=year, seq=spec["seq"])
        if "framing_order" in spec:
            (framing,) = [i for i in application["inspections"] if i["type"] == "Framing"]
            visit = framing["visits"][-1]
            visit["orders"].append(
                {
                    "order_type": OrderType.ORDER_TO_COMPLY,
                    "description": spec["framing_order"],
                    "comply_by": visit["started_at"].date() + dt.timedelta(days=10),
                    "complied_on_sequence": None,
                }
            )
        application["outstanding"] = spec
        applications.append(application)
    return applications
