"""One benchmark run: targets, in-process measurements, VACUUM (ANALYZE), gunicorn and the
job worker, the timed operations with their baselines next to them, the results. Called by
`python -m bench` once the database is ready (bench.build).

The machine is shared, and its load changes from one minute to the next: a baseline timed
once at the start says little about an operation timed three minutes later. So each
operation is timed between two runs of its baseline (the bare view before and after every
page and state change), and Finish and Close in rounds alternating with the bare WeasyPrint
render of the same permit; every ratio is against the baseline runs next to it. The load
others put on the machine is sampled throughout (bench.sampler).
"""

import datetime as dt
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import django
import weasyprint
from django.core.management import call_command
from django.db import connection, connections

from bench import build, environment, inprocess, operations, report, targets
from bench.build import PASSWORD, log
from bench.client import HOST, Measurement, Session, percentile, run_closed_loop
from bench.operations import BASELINES
from bench.sampler import LoadSampler

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
    # The bare view before and after every operation: short, it is run 20 times.
    "bare_view": Plan(CLIENTS, 10, 1500, 3),
    **{name: PAGE for name in operations.PAGES},
    "visit_start": Plan(CLIENTS, 3, 300, 10),
    "finding_add": Plan(CLIENTS, 3, 400, 10),
    "photo_upload": Plan(2, 1, 30, 30),
    "pdf_download": Plan(CLIENTS, 5, 900, 10),
    # Finish and Close alternates with the bare render: CLOSE_ROUNDS rounds of each.
    "bare_weasyprint": Plan(2, 1, 12, 15),
    "finish_and_close": Plan(2, 2, 10, 30),
}
CLOSE_ROUNDS = 3
OPERATIONS = [
    *operations.PAGES,
    "visit_start",
    "finding_add",
    "photo_upload",
    "pdf_download",
    "finish_and_close",
]
BASELINE_OF = {name: "bare_view" for name in OPERATIONS} | {"finish_and_close": "bare_weasyprint"}
CLOSES = (
    2 * PLANS["finish_and_close"].warmup
    + CLOSE_ROUNDS * PLANS["finish_and_close"].max_requests
    + 3  # reserved for the in-process measurement
    + 4
)
STARTS = CLIENTS * (PLANS["visit_start"].warmup + 1) + PLANS["visit_start"].max_requests + 4
# Operations whose budget may be missed: profiled in process, so a miss can name its cause.
BUDGETED = [*operations.PAGES, "finish_and_close"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving config.wsgi with the benchmark's settings on the loopback, and the
    job worker (`manage.py db_worker`, as `make run` starts it) unless `worker=False`."""

    def __init__(self, *, worker: bool = True):
        self.port = _free_port()
        self.log_path = environment.DATA_DIR / "gunicorn.log"
        self.worker_log_path = environment.DATA_DIR / "worker.log"
        bin_dir = os.path.dirname(sys.executable)
        self.command = [
            os.path.join(bin_dir, "gunicorn"),
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
        self.worker_command = None
        if worker:
            self.worker_command = [sys.executable, "manage.py", "db_worker", "--queue-name", "*"]
            self.worker_command.append("--no-startup-delay")
        self.process = self.worker = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, env=os.environ.copy())
        if self.worker_command:
            with open(self.worker_log_path, "w") as worker_log:
                self.worker = subprocess.Popen(
                    self.worker_command,
                    env=os.environ.copy(),
                    cwd=environment.ROOT,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
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
        for process in (self.process, self.worker):
            if process is None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _summary(measurements: list[Measurement]) -> dict:
    """Latency percentiles over the measurements pooled; req/s over their total time."""
    values = sorted(v for m in measurements for v in m.latencies_ms)
    seconds = sum(m.seconds for m in measurements)
    requests = sum(m.requests for m in measurements)
    return {
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "rps": round(requests / seconds, 1) if seconds else 0,
        "errors": sum(m.errors for m in measurements),
        "requests": requests,
        "seconds": round(seconds, 1),
    }


class Timer:
    """Runs the closed loops and keeps, for each, its figures and the load during it."""

    def __init__(self, sessions, actions, sampler: LoadSampler):
        self.sessions, self.actions, self.sampler = sessions, actions, sampler
        self.baseline_runs: list[dict] = []
        self.samples: list[str] = []

    def measure(self, name: str, plan: Plan, *, warmup: int | None = None):
        first = self.sampler.mark()
        measurement = run_closed_loop(
            self.sessions[: plan.clients],
            self.actions[name],
            warmup=plan.warmup if warmup is None else warmup,
            max_requests=plan.max_requests,
            max_seconds=plan.max_seconds,
        )
        return measurement, self.sampler.summary(first)

    def baseline(self, name: str, next_to: str, position: str) -> Measurement:
        measurement, load = self.measure(name, PLANS[name])
        self.baseline_runs.append(
            {
                "baseline": name,
                "next_to": next_to,
                "position": position,
                **_summary([measurement]),
                "load": load,
            }
        )
        return measurement


def _time_operation(timer: Timer, name: str) -> tuple[dict, list[Measurement], list]:
    """The operation and its baseline runs (before and after; for Finish and Close, rounds
    alternating with the bare render). Returns its summary, the baseline runs next to it
    and the error samples."""
    plan, base = PLANS[name], BASELINE_OF[name]
    measured, beside, loads, errors = [], [], [], []
    rounds = CLOSE_ROUNDS if name == "finish_and_close" else 1
    steps = getattr(timer.actions[name], "steps", None)
    measured_steps = []
    for index in range(rounds):
        position = "before" if rounds == 1 else f"round {index + 1}"
        beside.append(timer.baseline(base, name, position))
        if steps is not None:
            steps.clear()
        measurement, load = timer.measure(name, plan, warmup=plan.warmup if index == 0 else 0)
        if steps is not None:
            # The warm-ups all end before the first measured request (a barrier): the
            # measured ones are the last appended.
            measured_steps += steps[max(0, len(steps) - measurement.requests) :]
        measured.append(measurement)
        loads.append(load)
        errors += measurement.error_samples
    beside.append(timer.baseline(base, name, "after"))
    summary = _summary(measured)
    base_summary = _summary(beside)
    summary.update(
        clients=plan.clients,
        baseline=base,
        baseline_p95_ms=base_summary["p95_ms"],
        baseline_rps=base_summary["rps"],
        p95_ratio=round(summary["p95_ms"] / base_summary["p95_ms"], 2),
        rps_ratio=round(summary["rps"] / base_summary["rps"], 3) if base_summary["rps"] else 0,
        load=_mean_load(loads),
    )
    if measured_steps:
        # Finish and Close's three requests apart: what the close request alone costs
        # against the bare render beside it, and the two pages before it.
        summary["steps"] = {}
        for position, step in enumerate(("result_form", "confirmation_page", "close")):
            values = sorted(row[position] for row in measured_steps)
            summary["steps"][step] = {
                "p50_ms": round(percentile(values, 50), 1),
                "p95_ms": round(percentile(values, 95), 1),
                "p95_ratio": round(percentile(values, 95) / base_summary["p95_ms"], 2),
            }
    if rounds > 1:
        summary["rounds"] = [
            {
                "p95_ms": _summary([m]).get("p95_ms"),
                "baseline_p95_ms": _summary([beside[i], beside[i + 1]])["p95_ms"],
            }
            for i, m in enumerate(measured)
        ]
    return summary, beside, errors


def _mean_load(loads: list[dict]) -> dict:
    known = [load for load in loads if load.get("others_cpus") is not None]
    if not known:
        return loads[-1] if loads else {}
    return {
        "others_cpus": round(sum(x["others_cpus"] for x in known) / len(known), 2),
        "ours_cpus": round(sum(x["ours_cpus"] for x in known) / len(known), 2),
        "loadavg_1min": known[-1]["loadavg_1min"],
        "top_others": known[-1]["top_others"],
    }


def _one_client(timer: Timer, names: list[str]) -> dict:
    """The pages again with one client alone: their service time without queueing behind
    the other clients (what a missed budget is judged against)."""
    single = Plan(1, 3, 150, 6)
    out = {}
    for name in ["bare_view", *names]:
        measurement, load = timer.measure(name, single)
        values = sorted(measurement.latencies_ms)
        out[name] = {
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "requests": measurement.requests,
            "errors": measurement.errors,
            "others_cpus": load["others_cpus"],
        }
        log(
            f"  one client: {name:24} p50 {out[name]['p50_ms']:7.1f} ms  "
            f"p95 {out[name]['p95_ms']:7.1f} ms"
        )
    return out


def _jobs_since(started: dt.datetime, wait_seconds: float = 180) -> dict:
    """The background jobs enqueued since `started` (the close's inspection report, the
    applicant's e-mail, …), once the worker has run them: per job, how many, how they
    ended, how long they ran and how long after enqueueing they were done."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return {}
    jobs = DBTaskResult.objects.filter(enqueued_at__gte=started)
    deadline = time.monotonic() + wait_seconds
    while jobs.filter(finished_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(1)
    out = {}
    for path in sorted(set(jobs.values_list("task_path", flat=True))):
        rows = list(
            jobs.filter(task_path=path).values_list(
                "status", "enqueued_at", "started_at", "finished_at"
            )
        )
        ran = sorted(
            (f - s).total_seconds() * 1000 for _, _, s, f in rows if s is not None and f is not None
        )
        done = sorted((f - e).total_seconds() * 1000 for _, e, _, f in rows if f is not None)
        statuses: dict[str, int] = {}
        for status, *_ in rows:
            statuses[status] = statuses.get(status, 0) + 1
        out[path] = {
            "jobs": len(rows),
            "statuses": statuses,
            "run_p50_ms": round(percentile(ran, 50), 1) if ran else None,
            "run_p95_ms": round(percentile(ran, 95), 1) if ran else None,
            "done_after_enqueue_p95_ms": round(percentile(done, 95), 1) if done else None,
        }
    return out


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
            imported = applications_import(
                municipality=municipality, data=csv.read_bytes(), mapping=load_mapping("burlington")
            )
            raise Rollback
    except Rollback:
        pass
    return {
        "rows": imported.rows,
        "applications": imported.applications,
        "rows_per_second": round(imported.rows_per_second),
        "summary": imported.summary(),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=environment.ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # only reads: never the index
        ).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _environment(database: dict) -> dict:
    """What was measured and on what: the commit (and the files changed in the working
    tree, which the server ran too), the versions, the server's arguments."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    if source := os.environ.get("BENCH_SOURCE"):
        # A copy of a commit (git archive) run outside the working tree: that commit, as
        # given, with nothing uncommitted.
        commit, changed = source, []
    else:
        commit = _git("log", "--oneline", "-1")
        changed = [line[3:] for line in _git("status", "--porcelain").splitlines() if line]
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
        "commit": commit[:120],
        "uncommitted_files": sorted(changed),
        "cpus": os.cpu_count(),
        "gunicorn": " ".join(GUNICORN_ARGS),
        "postgresql": pg_version,
        "python": platform.python_version(),
        "django": django.get_version(),
        "weasyprint": weasyprint.__version__,
        # Whether PostgreSQL planned every query again (config/settings.py,
        # DATABASE_PREPARED_STATEMENTS): the server's processes read the same settings.
        "prepared_statements": bool(connection.settings_dict["OPTIONS"].get("prepare_threshold")),
        "database": {
            key: database.get(key)
            for key in (
                "reused",
                "seconds",
                "per_application",
                "applications_only",
                "migrated_forward",
            )
        },
    }


# The loop as it was timed by hand (`python3 -c`) while the benchmark's runs were compared:
# at a module's level, where each name is a dictionary lookup (about three times slower than
# the same loop in a function, so its seconds compare only with its own).
PYTHON_LOOP = compile(
    "total = 0\nfor number in range(3_000_000):\n    total += number\n", "loop", "exec"
)


def python_loop_seconds() -> float:
    """How fast this machine runs Python now: the best of five runs of a loop of 3 million
    additions, in seconds. The machines are shared and their speed moves by a factor of two
    to three between hours (report.LOOP_SECONDS_SEEN); on a slow machine it also moves from
    one second to the next, hence the best of five. A figure of this run is read against
    it, and against another run's only at a like speed."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        exec(PYTHON_LOOP, {})  # fresh globals: the names are looked up as at a module's level
        best = min(best, time.perf_counter() - began)
    return round(best, 3)


def _sessions(port: int, users: list[str], count: int) -> list[Session]:
    sessions = []
    for username in users[1 : 1 + count]:
        session = Session(port)
        session.login(username, PASSWORD)
        sessions.append(session)
    return sessions


def main(*, database: dict, started: float) -> dict:
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

    log("counting queries and profiling in-process")
    url = environment.database_url()
    sampler = LoadSampler(url, environment.database_name(url)).start()
    user = picked.usernames[0]
    measured = {name: actions[name] for name in OPERATIONS}
    profiles = inprocess.profile_operations(measured, reserved, user, profiled=BUDGETED)
    permit_html = inprocess.write_permit_html(reserved["finish_and_close"][1])
    baselines = {name: actions[name] for name in BASELINES}
    profiles.update(inprocess.profile_operations(baselines, reserved, user))
    log(f"permit HTML of {permit_html['permit']} written; measuring the PDF renderer")
    pdf_gain = inprocess.pdf_reuse_gain()
    in_process_load = sampler.summary(0)
    # The jobs the targets and the in-process closes enqueued (reports, e-mail) run now,
    # not in the middle of the first timed operation.
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)

    vacuum_seconds = build.vacuum_analyze(url)
    results = {
        "applications": database["applications"],
        "run": {
            **_environment(database),
            "vacuum_seconds": vacuum_seconds,
            "in_process_load": in_process_load,
        },
        "operations": {},
        "baseline": {},
    }
    connections.close_all()
    # Before the mark: the loop's own CPU is not the timed run's load.
    loop_before = python_loop_seconds()
    timed_from = sampler.mark()
    jobs_from = dt.datetime.now(dt.UTC)
    results["run"]["load_before"] = [round(x, 2) for x in os.getloadavg()]
    results["run"]["python_loop_seconds"] = [loop_before]
    all_errors = {}
    with Server() as server:
        log(f"gunicorn on port {server.port}: {' '.join(GUNICORN_ARGS)}; db_worker beside it")
        sessions = _sessions(server.port, picked.usernames, CLIENTS)
        timer = Timer(sessions, actions, sampler)
        beside_all: dict[str, list[Measurement]] = {name: [] for name in BASELINES}
        for name in OPERATIONS:
            summary, beside, errors = _time_operation(timer, name)
            summary["queries"] = profiles[name]["queries"]
            results["operations"][name] = summary
            beside_all[summary["baseline"]] += beside
            if errors:
                all_errors[name] = errors[:3]
            log(
                f"{name:18} p50 {summary['p50_ms']:8.1f} ms  p95 {summary['p95_ms']:8.1f} ms  "
                f"{summary['rps']:7.1f}/s  {summary['requests']} requests, "
                f"{summary['errors']} errors; {summary['baseline']} beside it p95 "
                f"{summary['baseline_p95_ms']} ms, {summary['baseline_rps']}/s; others' CPUs "
                f"{summary['load'].get('others_cpus')}"
            )
            for step, figures in summary.get("steps", {}).items():
                log(
                    f"  {step:18} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} "
                    f"ms = {figures['p95_ratio']} × {summary['baseline']} p95"
                )
            if errors:
                log(f"  e.g. {errors[0]}")
        for name, runs in beside_all.items():
            results["baseline"][name] = {**_summary(runs), "queries": profiles[name]["queries"]}
        results["baseline_runs"] = timer.baseline_runs
        results["one_client"] = _one_client(timer, [*operations.PAGES, "inspection_view_typical"])
        log("waiting for the background jobs of the run")
        results["jobs"] = _jobs_since(jobs_from)
        for session in sessions:
            session.close()
    results["run"]["load"] = sampler.summary(timed_from)
    results["run"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results["run"]["python_loop_seconds"].append(python_loop_seconds())
    sampler.stop()
    log("timing the import of the Burlington file")
    imported = _time_burlington_import()
    if imported:
        results["import_burlington"] = imported
        log(imported["summary"])
    log("explaining the searches")
    explain = inprocess.explain_searches(
        picked.usernames[0], {kind: terms[0] for kind, terms in picked.searches.items()}
    )
    results.update(
        in_process=profiles,
        permit_html=permit_html,
        pdf_reuse=pdf_gain,
        explain=explain,
        errors=all_errors,
    )
    results["run"]["seconds"] = round(time.monotonic() - started, 1)
    report.write(results)
    log(
        f"results in {environment.RESULTS.relative_to(environment.ROOT)} and "
        f"{environment.PERFORMANCE_DOC.relative_to(environment.ROOT)}; "
        f"{results['run']['seconds']} s in all"
    )
    return results


def search_only(*, database: dict, started: float) -> dict:
    """The searches alone, on the search-at-scale database (bench.build with
    applications_only): VACUUM (ANALYZE), gunicorn, each search between two bare-view runs,
    then one client alone and one request in process."""
    picked = targets.pick_searches_only(seed=int(time.time()))
    actions = {
        **operations.search_actions(picked, random.Random(11)),
        "bare_view": operations.bare_view,
    }
    profiles = inprocess.profile_operations(
        {name: actions[name] for name in picked.searches}, {}, picked.usernames[0]
    )
    url = environment.database_url()
    vacuum_seconds = build.vacuum_analyze(url)
    connections.close_all()
    sampler = LoadSampler(url, environment.database_name(url)).start()
    out = {
        "applications": database["applications"],
        "run": {**_environment(database), "vacuum_seconds": vacuum_seconds},
        "operations": {},
    }
    with Server(worker=False) as server:
        sessions = _sessions(server.port, picked.usernames, CLIENTS)
        timer = Timer(sessions, actions, sampler)
        for name in picked.searches:
            summary, _, _ = _time_operation(timer, name)
            summary.update(
                queries=profiles[name]["queries"],
                in_process_ms=profiles[name]["total_ms"],
                sql_ms=profiles[name]["sql_ms"],
            )
            out["operations"][name] = summary
            log(
                f"{name:18} at {database['applications']}: p50 {summary['p50_ms']:.1f} ms, "
                f"p95 {summary['p95_ms']:.1f} ms; bare view beside it p95 "
                f"{summary['baseline_p95_ms']} ms"
            )
        out["one_client"] = _one_client(timer, list(picked.searches))
        for session in sessions:
            session.close()
    sampler.stop()
    out["run"]["seconds"] = round(time.monotonic() - started, 1)
    return out
