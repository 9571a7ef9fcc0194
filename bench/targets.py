"""What each operation works on, picked from the benchmark database before a run.

State-changing operations consume their targets (a started visit cannot be started again,
a closed visit cannot be closed twice), so every run picks fresh ones: inspections not
started yet, open visits of the generated data, and open occupancy visits made for this run
through the real service (inspections.services.visit_start).
"""

import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse

from core.models import Municipality
from inspections.models import (
    Finding,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Order,
    VisitStatus,
)
from inspections.services import visit_start
from occupancy.models import OccupancyPermit, OccupancyPermitTemplate
from permits.models import Application, ApplicationStatus


@dataclass
class Targets:
    municipality: Municipality
    usernames: list[str]
    template_id: int
    searches: dict[str, list[str]] = field(default_factory=dict)
    applications: list[str] = field(default_factory=list)  # Work view URLs
    long_inspections: list[str] = field(default_factory=list)  # inspection view URLs
    not_started: list[str] = field(default_factory=list)  # inspection codes
    open_visits: list[str] = field(default_factory=list)  # inspection codes
    closable: list[str] = field(default_factory=list)  # inspection codes, open occupancy visit
    permits: list[str] = field(default_factory=list)  # permit PDF URLs


def pick(*, database: dict, seed: int, closes: int, starts: int) -> Targets:
    targets = pick_searches_only(seed)
    _pick_rest(targets, database, random.Random(seed + 1), closes, starts)
    return targets


def pick_searches_only(seed: int) -> Targets:
    """The users and the search terms: all the search-at-scale run needs."""
    rng = random.Random(seed)
    city = Municipality.objects.get(slug="lakeport")
    users = list(
        get_user_model()
        .objects.filter(username__startswith="lakeport-inspector-")
        .order_by("username")
        .values_list("username", flat=True)
    )
    targets = Targets(
        municipality=city,
        usernames=users,
        template_id=OccupancyPermitTemplate.objects.get(municipality=city).pk,
    )
    numbers = pick_searches(targets, rng)
    targets.applications = [
        reverse("permits:application_detail", args=[city.slug, number]) for number in numbers
    ]
    return targets


def pick_searches(targets: Targets, rng) -> list[str]:
    """Search terms from 300 random applications of the city; returns their numbers."""
    sample = list(
        Application.objects.filter(municipality=targets.municipality)
        .order_by("?")
        .values_list("number", "street_address", "owner_name")[:300]
    )
    numbers = [number for number, _, _ in sample]
    targets.searches = {
        "search_number": numbers[:200],
        # What someone types: the street without its house number, the owner's full name.
        "search_street": [street.split(" ", 1)[1] for _, street, _ in sample[:200]],
        "search_owner": [owner for _, _, owner in sample[:200]],
        # Letters that never meet in a generated name, address or number.
        "search_no_match": [
            "".join(rng.choice("QXZJ") for _ in range(5)) + " Qwyx" for _ in range(200)
        ],
    }
    return numbers


def _pick_rest(targets: Targets, database: dict, rng, closes: int, starts: int) -> None:
    city, users = targets.municipality, targets.usernames
    targets.long_inspections = [
        reverse("inspections:inspection_detail", args=[code])
        for code in database["long_open_inspections"]
    ]
    long_codes = set(database["long_open_inspections"])
    targets.open_visits = [
        code
        for code in Inspection.objects.filter(
            application__municipality=city, visits__status=VisitStatus.OPEN
        )
        .exclude(inspection_type__kind=InspectionKind.OCCUPANCY)
        .values_list("code", flat=True)
        if code not in long_codes
    ]
    rng.shuffle(targets.open_visits)
    not_started = Inspection.objects.filter(
        application__municipality=city,
        status=InspectionStatus.NOT_STARTED,
        inspection_type__kind=InspectionKind.GENERAL,
    ).annotate(visit_count=Count("visits"))
    targets.not_started = list(
        not_started.filter(visit_count=0).order_by("?").values_list("code", flat=True)[:starts]
    )
    # Occupancy inspections ready to be granted: a fresh visit opened through the service,
    # on an application whose building permit is issued, with nothing outstanding (a grant
    # carries every matter still open on the application, whichever inspection recorded
    # it): otherwise occupancy.rules refuses "Granted and fully completed" and the form
    # comes back with a 400, counted as an error.
    open_findings = Finding.objects.filter(
        visit__inspection__application=OuterRef("application"),
        is_remark=False,
        corrected_on_visit__isnull=True,
    )
    open_orders = Order.objects.filter(
        visit__inspection__application=OuterRef("application"), complied_on_visit__isnull=True
    )
    candidates = (
        Inspection.objects.filter(
            application__municipality=city,
            status=InspectionStatus.NOT_STARTED,
            inspection_type__kind=InspectionKind.OCCUPANCY,
            application__permit_issued_on__isnull=False,
        )
        .exclude(application__status=ApplicationStatus.CLOSED)
        .exclude(Exists(open_findings))
        .exclude(Exists(open_orders))
        .annotate(visit_count=Count("visits"))
        .filter(visit_count=0)
        .select_related("application", "inspection_type")
        .order_by("?")[:closes]
    )
    inspector = get_user_model().objects.get(username=users[0])
    for inspection in candidates:
        visit_start(inspection=inspection, actor=inspector)
        targets.closable.append(inspection.code)
    targets.permits = [
        reverse("occupancy:permit_pdf", args=[city.slug, number])
        for number in OccupancyPermit.objects.filter(municipality=city)
        .order_by("?")
        .values_list("number", flat=True)[:300]
    ]
