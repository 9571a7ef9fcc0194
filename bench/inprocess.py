"""Measurements made inside this process against the benchmark database: SQL queries and
service time per operation, the EXPLAIN of the searches, the permit HTML the bare WeasyPrint
baseline renders, and what reusing WeasyPrint's configuration and parsed stylesheets saves."""

import contextlib
import cProfile
import hashlib
import pstats
import re
import statistics
import time
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import environment
from bench.operations import InProcess
from core.models import DocumentSignature
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


def profile_operations(
    actions: dict, reserved: dict, username: str, repeats: int = 5, profiled: tuple = ()
) -> dict:
    """Per operation: its SQL queries, and the time one request takes in this process (no
    HTTP, no concurrency), with the part spent waiting for PostgreSQL.

    A read (an action with targets: the searches, the pages, the PDF download) runs the
    same request (its first target) once to warm up, is timed as a worker serves it once
    its connection is warm (`_steady_times`), then runs `repeats` times more with its
    queries captured (the most queries of one, the median SQL time), so its queries are
    those of one request repeated; then one request to each of up to ten other targets
    gives the range of its query count over the data (a Work view of an application with
    permits issued on its visits makes one query more than one without: a count that
    depends on what a record holds, not on the size of the data). Consuming operations use
    the targets reserved for this (one warm-up, one measured under the capture, and one
    for the profile); a write without targets (Add finding, Upload photos) and a baseline
    run once to warm up, then `repeats` times under the capture, which times them too.
    The measured Finish and Close also times its service
    (occupancy.services.visit_finish_and_close, the second request's transaction) and,
    within it, its PDF renders. Operations named in `profiled` are then run under cProfile
    (`top_of_profile`): what a missed budget's cause is read from."""
    import inspections.reports
    import occupancy.services
    import occupancy.views

    session = InProcess(get_user_model().objects.get(username=username))
    profiles = {}
    for name, action in actions.items():
        targets = getattr(action, "targets", None)
        if name in reserved:
            calls = [{"code": code} for code in reserved[name]]
            calls, spare = calls[:2], calls[2:]
        elif targets:
            calls = spare = [{"target": targets[0]}] * (repeats + 1)
        else:
            calls = spare = [{}] * (repeats + 1)
        if problem := action(session, 0, **calls[0]):
            raise RuntimeError(f"{name} failed in-process: {problem}")
        # A read (the searches, the pages, the PDF download: the actions with targets) is
        # timed warm; a write (Add finding, Upload photos) would add a row each time.
        read = targets is not None and name not in reserved
        steady = _steady_times(action, session, calls[0], repeats) if read else None
        counts, totals, sqls, cpus, slowest = [], [], [], [], []
        permit_ms, report_ms, service_ms = [], [], []
        for kwargs in calls[1:]:
            with (
                _timed(occupancy.services, "render_permit_pdf", permit_ms),
                _timed(inspections.reports, "render_visit_report", report_ms),
                _timed(occupancy.views, "visit_finish_and_close", service_ms),
                CaptureQueriesContext(connection) as context,
            ):
                problem, wall_ms, cpu_ms = _timed_request(action, session, kwargs)
            totals.append(wall_ms)
            cpus.append(cpu_ms)
            if problem:
                raise RuntimeError(f"{name} failed in-process: {problem}")
            counts.append(len(context.captured_queries))
            sqls.append(sum(float(q["time"]) for q in context.captured_queries) * 1000)
            slowest += context.captured_queries
        if steady is not None:
            totals, cpus = steady  # the captured requests above gave the queries
        over_targets = list(counts)
        for target in (targets or [])[1:11]:
            with CaptureQueriesContext(connection) as context:
                action(session, 0, target=target)
            over_targets.append(len(context.captured_queries))
        profiles[name] = {
            "queries": max(counts),
            "queries_repeated": counts,
            "queries_range": [min(over_targets), max(over_targets)],
            "total_ms": round(statistics.median(totals), 1),
            "sql_ms": round(statistics.median(sqls), 1),
            # This process's CPU (the request's Python, not PostgreSQL's): what a loaded
            # machine inflates least.
            "cpu_ms": round(statistics.median(cpus), 1),
            "slowest_queries": [
                {"ms": round(float(q["time"]) * 1000, 1), "sql": _short_sql(q["sql"])}
                for q in sorted(slowest, key=lambda q: float(q["time"]), reverse=True)[:3]
            ],
        }
        if name in profiled and spare:
            profiles[name]["profile"] = top_of_profile(action, session, spare)
        if permit_ms or report_ms:
            profiles[name].update(
                close_service_ms=round(sum(service_ms), 1),
                permit_pdf_ms=round(sum(permit_ms), 1),
                report_pdf_ms=round(sum(report_ms), 1),
            )
    return profiles


# Requests made on the benchmark's connection before a read is timed: more than psycopg's
# prepare_threshold (5, config.settings), so that its statements are prepared.
STEADY_WARM_UP = 10


def _steady_times(action, session, kwargs: dict, repeats: int) -> tuple[list, list]:
    """A read's wall and CPU times (ms) as a production worker serves it: on a connection
    that has served it before (persistent connections, CONN_MAX_AGE), so its statements are
    prepared, and without the query capture (Django's debug cursor, which formats and
    records every query). Timed as before, the second to sixth requests of the page under
    the capture, they took a fifth (Work view) to three quarters (a long inspection view)
    longer (docs/performance.md, "What is measured, and how")."""
    for _ in range(STEADY_WARM_UP):
        if problem := action(session, 0, **kwargs):
            raise RuntimeError(f"warm-up request failed in-process: {problem}")
    totals, cpus = [], []
    for _ in range(repeats):
        problem, wall_ms, cpu_ms = _timed_request(action, session, kwargs)
        totals.append(wall_ms)
        cpus.append(cpu_ms)
        if problem:
            raise RuntimeError(f"timed request failed in-process: {problem}")
    return totals, cpus


def _timed_request(action, session, kwargs: dict) -> tuple[str | None, float, float]:
    """One request of `action`: what went wrong (None if nothing), its wall and CPU ms."""
    began, began_cpu = time.perf_counter(), time.process_time()
    problem = action(session, 0, **kwargs)
    return (
        problem,
        (time.perf_counter() - began) * 1000,
        (time.process_time() - began_cpu) * 1000,
    )


def top_of_profile(action, session, calls: list[dict], rows: int = 8) -> dict:
    """Where the operation's requests spend CPU in this process, under cProfile timed by
    the process's CPU clock (so neither waiting for PostgreSQL, reported apart as SQL time,
    nor being preempted by other processes on a shared machine counts; the profiler slows
    everything, so read shares): `own`, the top by CPU spent in the function itself (its
    own code, or the C function it is); `project`, the project's own functions by CPU spent
    in them and what they call, leaving out the entry points (over 90 % of the total). In
    ms per request; Django's test client and this benchmark's frames are left out."""
    profiler = cProfile.Profile(time.process_time)
    for kwargs in calls:
        profiler.enable()
        problem = action(session, 0, **kwargs)
        profiler.disable()
        if problem:
            raise RuntimeError(f"profiled request failed in-process: {problem}")
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    entries, project = [], []
    for (filename, line, function), (_, calls_n, own, cumulative, _) in stats.stats.items():
        where = _short_path(filename)
        if where.startswith(("bench/", "django/test/")):
            continue
        entry = {
            "function": f"{where}:{line}({function})" if line else function,
            "calls": calls_n // len(calls),
            "own_ms": round(own * 1000 / len(calls), 1),
            "cumulative_ms": round(cumulative * 1000 / len(calls), 1),
            "own_share": round(own / total, 3) if total else 0,
        }
        entries.append(entry)
        if filename.startswith(str(environment.ROOT)) and ".venv" not in filename:
            if cumulative < 0.9 * total:
                project.append(entry)
    entries.sort(key=lambda entry: entry["own_ms"], reverse=True)
    project.sort(key=lambda entry: entry["cumulative_ms"], reverse=True)
    return {
        "cpu_ms": round(total * 1000 / len(calls), 1),
        "own": entries[:rows],
        "project": project[:rows],
    }


def _short_sql(sql: str) -> str:
    """A query without its column list (what it reads and how is in FROM … WHERE …)."""
    return re.sub(r"^SELECT .+? FROM ", "SELECT … FROM ", sql, count=1, flags=re.S)[:600]


def _short_path(filename: str) -> str:
    """A profile entry's file relative to the project or to site-packages."""
    for marker in ("/site-packages/", str(environment.ROOT) + "/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


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
    # A signed permit's stored digest is the signed file's; a re-render gives the unsigned
    # bytes, whose digest its DocumentSignature keeps (core.signing).
    signature = DocumentSignature.objects.filter(sha256=permit.pdf_sha256).first()
    expected = signature.unsigned_sha256 if signature else permit.pdf_sha256
    same = hashlib.sha256(pdf).hexdigest() == expected
    return {
        "permit": permit.number,
        "html_bytes": len(html.encode()),
        "signed": signature is not None,
        "pdf_identical": same,
    }


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
