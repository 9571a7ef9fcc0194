"""Measurements made inside this process against the benchmark database: SQL queries and
service time per operation, the EXPLAIN of the searches, the permit HTML the bare WeasyPrint
baseline renders, and what reusing WeasyPrint's configuration and parsed stylesheets saves."""

import contextlib
import hashlib
import statistics
import time
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import environment
from bench.operations import InProcess
from occupancy.documents import _logo_data_uri, render_permit_html, template_context
from occupancy.models import OccupancyPermit


@contextlib.contextmanager
def _timed(module, name: str, spent: list[float]):
    """Time every call of module.name (measurement only, in this process)."""
    original = getattr(module, name)

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - began) * 1000)

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


def profile_operations(actions: dict, reserved: dict, username: str, repeats: int = 5) -> dict:
    """Per operation: its SQL queries, and the time one request takes in this process (no
    HTTP, no concurrency), with the part spent waiting for PostgreSQL. Read-only operations
    run once to warm up then `repeats` times (medians); consuming operations use the two
    targets reserved for this (one warm-up, one measured). The measured Finish and Close
    also times its service (occupancy.services.visit_finish_and_close, the second request's
    transaction) and, within it, its two PDF renders."""
    import inspections.reports
    import occupancy.services
    import occupancy.views

    session = InProcess(get_user_model().objects.get(username=username))
    profiles = {}
    for name, action in actions.items():
        if name in reserved:
            calls = [{"code": code} for code in reserved[name]]
        else:
            calls = [{}] * (repeats + 1)
        if problem := action(session, 0, **calls[0]):
            raise RuntimeError(f"{name} failed in-process: {problem}")
        counts, totals, sqls = [], [], []
        permit_ms, report_ms, service_ms = [], [], []
        for kwargs in calls[1:]:
            with (
                _timed(occupancy.services, "render_permit_pdf", permit_ms),
                _timed(inspections.reports, "render_visit_report", report_ms),
                _timed(occupancy.views, "visit_finish_and_close", service_ms),
                CaptureQueriesContext(connection) as context,
            ):
                began = time.perf_counter()
                problem = action(session, 0, **kwargs)
                totals.append((time.perf_counter() - began) * 1000)
            if problem:
                raise RuntimeError(f"{name} failed in-process: {problem}")
            counts.append(len(context.captured_queries))
            sqls.append(sum(float(q["time"]) for q in context.captured_queries) * 1000)
        if len(set(counts)) != 1:
            raise RuntimeError(f"{name}: the number of queries varies: {counts}")
        profiles[name] = {
            "queries": counts[0],
            "total_ms": round(statistics.median(totals), 1),
            "sql_ms": round(statistics.median(sqls), 1),
        }
        if permit_ms or report_ms:
            profiles[name].update(
                close_service_ms=round(sum(service_ms), 1),
                permit_pdf_ms=round(sum(permit_ms), 1),
                report_pdf_ms=round(sum(report_ms), 1),
            )
    return profiles


def write_permit_html(inspection_code: str) -> dict:
    """The HTML and stylesheet of the permit Finish and Close issued on that inspection,
    exactly as its PDF was rendered: the bare WeasyPrint baseline renders this same
    document."""
    permit = OccupancyPermit.objects.select_related("template_version", "municipality").get(
        visit__inspection__code=inspection_code
    )
    html = render_permit_html(
        permit.template_version.body,
        template_context(permit.snapshot, logo_data_uri=_logo_data_uri(permit.municipality)),
    )
    stylesheet = permit.template_version.stylesheet
    environment.PERMIT_HTML.write_text(html, encoding="utf-8")
    environment.PERMIT_CSS.write_text(stylesheet, encoding="utf-8")
    from core.pdf import render_pdf
    from occupancy.documents import permit_pdf_metadata

    pdf = render_pdf(html, stylesheet=stylesheet, metadata=permit_pdf_metadata(permit.snapshot))
    same = hashlib.sha256(pdf).hexdigest() == permit.pdf_sha256
    return {"permit": permit.number, "html_bytes": len(html.encode()), "pdf_identical": same}


def explain_searches(username: str, terms: dict[str, str]) -> dict[str, list[dict]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the exact queries the application list ran for each
    search: the count of the paginator and the page itself."""
    session = InProcess(get_user_model().objects.get(username=username))
    plans = {}
    for kind, term in terms.items():
        session.get("/?" + urlencode({"q": term}))
        with CaptureQueriesContext(connection) as context:
            session.get("/?" + urlencode({"q": term}))
        plans[kind] = []
        for query in context.captured_queries:
            if "search_text" not in query["sql"]:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                lines = [row[0] for row in cursor.fetchall()]
            plans[kind].append({"term": term, "sql": query["sql"], "plan": lines})
    return plans


def pdf_reuse_gain(rounds: int = 20) -> dict:
    """Median render time of the permit HTML three ways, interleaved so that the load of
    the machine weighs on each alike."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from core.pdf import ARCHIVAL_OPTIONS, InlineOnlyFetcher, _font_config, render_pdf

    html = environment.PERMIT_HTML.read_text(encoding="utf-8")
    css = environment.PERMIT_CSS.read_text(encoding="utf-8")

    def render(font_config):
        sheet = CSS(string=css, font_config=font_config, url_fetcher=InlineOnlyFetcher())
        HTML(string=html, url_fetcher=InlineOnlyFetcher()).write_pdf(
            stylesheets=[sheet], font_config=font_config, **ARCHIVAL_OPTIONS
        )

    def nothing_reused():
        render(FontConfiguration())

    def font_config_reused():  # the renderer before issue 7
        render(_font_config())

    def font_config_and_stylesheets_reused():  # core/pdf.py now: parsed once per version
        render_pdf(html, stylesheet=css, stylesheet_key="bench-permit")

    variants = [nothing_reused, font_config_reused, font_config_and_stylesheets_reused]
    times = {variant.__name__: [] for variant in variants}
    for variant in variants:
        variant()
    for _ in range(rounds):
        for variant in variants:
            began = time.perf_counter()
            variant()
            times[variant.__name__].append((time.perf_counter() - began) * 1000)
    return {
        name: {"median_ms": round(statistics.median(values), 1), "min_ms": round(min(values), 1)}
        for name, values in times.items()
    } | {"rounds": rounds}
