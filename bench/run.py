"""One benchmark run: targets, in-process measurements, gunicorn, the timed operations, the
results. Called by `python -m bench` once the database is ready (bench.build)."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from django.db import connections

from bench import environment, inprocess, operations, report, targets
from bench.build import PASSWORD, log
from bench.client import HOST, Session, percentile, run_closed_loop
from bench.operations import BASELINES

WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "3"))
GUNICORN_ARGS = ["--workers", str(WORKERS), "--worker-class", "sync", "--timeout", "120"]


@dataclass(frozen=True)
class Plan:
    """How one operation is driven: clients, unrecorded warm-up requests per client, and
    the bounds of the measurement (whichever comes first)."""

    clients: int
    warmup: int
    max_requests: int
    max_seconds: float


PAGE = Plan(CLIENTS, 5, 900, 15)
PLANS = {
    "bare_view": Plan(CLIENTS, 30, 6000, 10),
    **{name: PAGE for name in operations.PAGES},
    "visit_start": Plan(CLIENTS, 3, 300, 10),
    "finding_add": Plan(CLIENTS, 3, 400, 10),
    "photo_upload": Plan(2, 1, 30, 30),
    "pdf_download": Plan(CLIENTS, 5, 900, 10),
    "bare_weasyprint": Plan(2, 3, 40, 30),
    "finish_and_close": Plan(2, 2, 30, 60),
}
ORDER = [
    "bare_view",
    *operations.PAGES,
    "visit_start",
    "finding_add",
    "photo_upload",
    "pdf_download",
    "bare_weasyprint",
    "finish_and_close",
]
CLOSES = 2 * (PLANS["finish_and_close"].warmup + 1) + PLANS["finish_and_close"].max_requests + 4
STARTS = CLIENTS * (PLANS["visit_start"].warmup + 1) + PLANS["visit_start"].max_requests + 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving config.wsgi with the benchmark's settings on the loopback."""

    def __init__(self):
        self.port = _free_port()
        self.log_path = environment.DATA_DIR / "gunicorn.log"
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.command = [
            gunicorn,
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            *GUNICORN_ARGS,
            "--error-logfile",
            str(self.log_path),
            "--log-level",
            "warning",
            "--chdir",
            str(environment.ROOT),
        ]
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, env=os.environ.copy())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited, see {self.log_path}")
            try:
                status, _, _ = Session(self.port, timeout=5).get("/accounts/login/")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer within 90 s, see {self.log_path}")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _summary(measurement, queries: int) -> dict:
    values = sorted(measurement.latencies_ms)
    return {
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "rps": round(measurement.requests / measurement.seconds, 1) if measurement.seconds else 0,
        "errors": measurement.errors,
        "queries": queries,
    }


def _sequential(session, actions) -> dict:
    """The pages again with one client alone: their service time without queueing behind
    the other clients (diagnostic, reported in docs/performance.md only)."""
    sequential = {}
    for name in ["bare_view", *operations.PAGES, "inspection_view_typical"]:
        measurement = run_closed_loop(
            [session], actions[name], warmup=3, max_requests=150, max_seconds=6
        )
        values = sorted(measurement.latencies_ms)
        sequential[name] = {
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "requests": measurement.requests,
            "errors": measurement.errors,
        }
        log(
            f"  one client: {name:24} p50 {sequential[name]['p50_ms']:7.1f} ms  "
            f"p95 {sequential[name]['p95_ms']:7.1f} ms"
        )
    return sequential


def _time_burlington_import() -> dict | None:
    """Import the City of Burlington's permits into a new municipality and time it (issue 9);
    rolled back afterwards so the bench database keeps its size."""
    from django.db import transaction

    from core.models import Municipality
    from exchange.importing.mapping import load_mapping
    from exchange.importing.services import applications_import

    csv = environment.ROOT.parent / "shared" / "data" / "burlington-on-building-permits.csv"
    if not csv.is_file():
        return None

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            municipality = Municipality.objects.create(
                slug="bench-burlington", name="Bench: City of Burlington"
            )
            report = applications_import(
                municipality=municipality, data=csv.read_bytes(), mapping=load_mapping("burlington")
            )
            raise Rollback
    except Rollback:
        pass
    return {
        "rows": report.rows,
        "applications": report.applications,
        "rows_per_second": round(report.rows_per_second),
        "summary": report.summary(),
    }


def main(*, database: dict, started: float) -> None:
    log("picking targets")
    picked = targets.pick(database=database, seed=int(time.time()), closes=CLOSES, starts=STARTS)
    if len(picked.closable) < CLOSES or len(picked.not_started) < STARTS:
        raise SystemExit(
            f"not enough fresh targets left ({len(picked.closable)} occupancy inspections, "
            f"{len(picked.not_started)} not started): drop the database "
            f"{environment.database_name(environment.database_url())} to rebuild it"
        )
    reserved: dict[str, list] = {}
    actions = operations.build(picked, clients=CLIENTS, reserved=reserved)

    log("counting queries in-process")
    user = picked.usernames[0]
    measured = {name: actions[name] for name in ORDER if name not in BASELINES}
    profiles = inprocess.profile_operations(measured, reserved, user)
    permit_html = inprocess.write_permit_html(reserved["finish_and_close"][-1])
    baselines = {name: actions[name] for name in BASELINES}
    profiles.update(inprocess.profile_operations(baselines, reserved, user))
    log(f"permit HTML of {permit_html['permit']} written; measuring the PDF renderer")
    pdf_gain = inprocess.pdf_reuse_gain()
    connections.close_all()

    details = {"ops": {}, "load_before": os.getloadavg()}
    results = {"applications": database["applications"], "operations": {}, "baseline": {}}
    with Server() as server:
        log(f"gunicorn on port {server.port}: {' '.join(GUNICORN_ARGS)}")
        sessions = []
        for username in picked.usernames[1 : 1 + max(p.clients for p in PLANS.values())]:
            session = Session(server.port)
            session.login(username, PASSWORD)
            sessions.append(session)
        for name in ORDER:
            plan = PLANS[name]
            load = os.getloadavg()[0]
            measurement = run_closed_loop(
                sessions[: plan.clients],
                actions[name],
                warmup=plan.warmup,
                max_requests=plan.max_requests,
                max_seconds=plan.max_seconds,
            )
            summary = _summary(measurement, profiles[name]["queries"])
            section = "baseline" if name in BASELINES else "operations"
            results[section][name] = summary
            details["ops"][name] = {
                "clients": plan.clients,
                "requests": measurement.requests,
                "seconds": round(measurement.seconds, 1),
                "load_1min_before": round(load, 2),
                "error_samples": measurement.error_samples[:3],
            }
            log(
                f"{name:18} p50 {summary['p50_ms']:8.1f} ms  p95 {summary['p95_ms']:8.1f} ms  "
                f"{summary['rps']:7.1f}/s  {measurement.requests} requests, "
                f"{summary['errors']} errors, {summary['queries']} queries"
            )
            if measurement.error_samples:
                log(f"  e.g. {measurement.error_samples[0]}")
            if name == operations.PAGES[-1]:
                details["sequential"] = _sequential(sessions[0], actions)
        for session in sessions:
            session.close()
    details["load_after"] = os.getloadavg()
    log("timing the import of the Burlington file")
    imported = _time_burlington_import()
    if imported:
        results["import_burlington"] = imported
        log(imported["summary"])
    log("explaining the searches")
    explain = inprocess.explain_searches(
        picked.usernames[0], {kind: terms[0] for kind, terms in picked.searches.items()}
    )
    details.update(
        in_process=profiles,
        database=database,
        permit_html=permit_html,
        pdf_reuse=pdf_gain,
        explain=explain,
        gunicorn=" ".join(GUNICORN_ARGS),
        cpus=os.cpu_count(),
        seconds=round(time.monotonic() - started, 1),
    )
    report.write(results, details)
    log(
        f"results in {environment.RESULTS.relative_to(environment.ROOT)} and "
        f"{environment.PERFORMANCE_DOC.relative_to(environment.ROOT)}; "
        f"{details['seconds']} s in all"
    )
