"""On PostgreSQL the application search is served by its trigram index
(application_search_trgm_idx, migration permits 0002): the one pass that counts and orders
the matches of a precise search reads them through it, and the page is then read by primary
key (permits.search.ApplicationResults). A broad search stops counting at 1,001 and reads
its page newest first along the last-activity index. The table is filled until the planner
picks the index on its own (no enable_seqscan games): with only a few hundred rows a
sequential scan is rightly cheaper."""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permits.models import Application
from tests.conftest import client_for

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)

ROWS = 3000
INDEX = "application_search_trgm_idx"
STREETS = (
    "Maple Queen Elgin Brant Lakeshore Orchard Birch Victoria Mill Wellington Cedar Heritage "
    "Sumac Riverside Church Hawthorne Dundas King Yonge Bloor Bathurst Spadina Kipling Keele "
    "Jane Weston Dufferin Lansdowne Bayview Leslie Pape Broadview Parliament Jarvis Simcoe"
).split()
TYPES = "Street Road Avenue Crescent Drive Court Boulevard Lane Way Place".split()
GIVEN = "Sarah David Priya Mohammed Jennifer Michael Aisha Liam Emily Wei Olivia Daniel".split()
SURNAMES = "Thompson Nguyen MacDonald Patel Singh Tremblay Campbell Wilson Chen Fraser".split()


def fill(municipality, rows: int) -> None:
    """`rows` applications with varied addresses and owners, then fresh statistics."""
    rng = random.Random(7)
    now = timezone.now()
    applications = []
    for i in range(rows):
        application = Application(
            municipality=municipality,
            number=f"B-{2006 + i % 20}-{i:05}",
            description="New single detached dwelling",
            street_address=f"{rng.randint(1, 2999)} {rng.choice(STREETS)} {rng.choice(TYPES)}",
            city="Alpha",
            postal_code=f"L{rng.randint(1, 9)}R {rng.randint(1, 9)}Y{rng.randint(0, 9)}",
            roll_number=f"2402 {rng.randint(100, 999)} {rng.randint(10000, 99999)} 0000",
            applicant_name=f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
            owner_name=f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
            applied_on=datetime.date(2006 + i % 20, 3, 1),
            last_activity_at=now - datetime.timedelta(hours=i),
        )
        application.search_text = application.build_search_text()  # what save() stores
        applications.append(application)
    Application.objects.bulk_create(applications, batch_size=2000)
    with connection.cursor() as cursor:
        # What autovacuum does to a table in use: move the index's pending entries into the
        # index proper, and gather statistics.
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [INDEX])
        cursor.execute("ANALYZE permits_application")


def search_plans(client, query: str, *, analyze: bool = False) -> list[str]:
    """EXPLAIN of every query the application list ran for `query` on search_text."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("permits:application_list"), {"q": query})
    assert response.status_code == 200
    plans = []
    for sql in [q["sql"] for q in context.captured_queries if "search_text" in q["sql"]]:
        with connection.cursor() as cursor:
            cursor.execute(("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize(
    "query",
    [
        "Lakeshore Road",
        "Lakeshore Rd.",  # the type abbreviated: the term is ROAD all the same
        "Priya Chen",
        "B-2011-00105",
        "b201100105",  # the number without its dashes
        "2402 123",
        "Zqxj",
    ],
)
def test_search_uses_the_trigram_index_for_count_and_page(inspector, municipality_a, query):
    fill(municipality_a, ROWS)
    plans = search_plans(client_for(inspector), query)
    assert plans, "the search ran no query on search_text"
    for plan in plans:
        assert INDEX in plan, plan


def test_broad_search_counts_to_1001_and_reads_its_page_newest_first(inspector, municipality_a):
    """Every application is in Alpha: the count stops at 1,001 rows and the page walks the
    last-activity index backwards for 25, instead of sorting 3,000 matches twice."""
    fill(municipality_a, ROWS)
    client = client_for(inspector)
    response = client.get(reverse("permits:application_list"), {"q": "alpha"})
    assert "More than 1,000 applications" in response.content.decode()
    count_plan, page_plan = search_plans(client, "alpha", analyze=True)
    assert count_plan.startswith("Limit") and "rows=1001 loops=1" in count_plan.splitlines()[0]
    assert "Index Scan Backward" in page_plan and "last_activity" in page_plan, page_plan


def test_search_results_stay_newest_first(inspector, municipality_a):
    fill(municipality_a, ROWS)
    response = client_for(inspector).get(reverse("permits:application_list"), {"q": "Lakeshore"})
    page = list(response.context["page_obj"])
    expected = list(
        Application.objects.filter(search_text__contains="LAKESHORE").order_by(
            "-last_activity_at", "-id"
        )[:25]
    )
    assert page == expected and len(page) == 25


def test_a_search_is_planned_for_its_own_terms_on_a_kept_connection(inspector, municipality_a):
    """With prepared statements (config/settings.py), PostgreSQL may run a statement it has
    seen five times with one generic plan, which for a search walks the whole trigram index
    when a term has one or two letters (1.7 s for "2 ro" at 200,000 applications, against
    25 ms planned for its terms; a table this small never makes the planner switch, so the
    test checks the setting each search statement runs under). permits.search runs every
    search statement with plan_cache_mode = force_custom_plan; the rest keep theirs."""
    fill(municipality_a, ROWS)
    client = client_for(inspector)
    modes = []

    def note_plan_cache_mode(execute, sql, params, many, context):
        if "search_text" in sql and "LIKE" in sql:
            with context["cursor"].cursor.connection.cursor() as raw:
                raw.execute("SELECT current_setting('plan_cache_mode')")
                modes.append(raw.fetchone()[0])
        return execute(sql, params, many, context)

    queries = ["Priya Chen", "Wei Patel", "Liam Fraser", "Aisha Singh", "Emily Chen",
               "Daniel Wilson", "Olivia Nguyen", "2 ro", "1 b", "alpha"]  # fmt: skip
    with connection.execute_wrapper(note_plan_cache_mode):
        for query in queries:
            response = client.get(reverse("permits:application_list"), {"q": query})
            assert response.status_code == 200
    # At least one statement a search ("alpha" matches more than 1,000: its page is too).
    assert len(modes) > len(queries) and set(modes) == {"force_custom_plan"}, modes
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        assert cursor.fetchone()[0] == "auto"  # for this transaction only
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%search_text%LIKE%LIKE%"],
        )
        assert cursor.fetchone()[0] == 1  # the two-term search was prepared, as in production
