"""python -m bench [--build-only | --report | --search-only]: build or reuse the database,
then measure (docs/performance.md).

    --build-only   build (or reuse) the database, measure nothing
    --report       rewrite docs/performance.md's generated section from bench/results.json
                   and print the budgets (no database)
    --search-only  the searches alone at BENCH_SEARCH_SCALE applications, on their own
                   database; the figures go into results.json's search_at_scale

With BENCH_SEARCH_SCALE set (e.g. 1000000), a full run is followed by the search-only run.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import django

from bench import environment


def _search_only(started: float) -> None:
    scale = environment.search_scale()
    if not scale:
        raise SystemExit("--search-only needs BENCH_SEARCH_SCALE (e.g. 1000000).")
    os.environ["BENCH_DATABASE_URL"] = environment.search_scale_url(scale)
    environment.prepare()
    django.setup()
    from bench import build, report, run

    database = build.ensure(scale, applications_only=True)
    measured = run.search_only(database=database, started=started)
    results = report.load()
    results["search_at_scale"] = measured
    report.write(results)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--build-only", action="store_true", help="build the database, no run")
    modes.add_argument("--report", action="store_true", help="regenerate the docs from results")
    modes.add_argument("--search-only", action="store_true", help="search at BENCH_SEARCH_SCALE")
    args = parser.parse_args()
    started = time.monotonic()
    if args.search_only:
        _search_only(started)
        return
    if args.report:
        from bench import report

        results = report.load()
        report.write_doc(results)
        report.print_budgets(results)
        return
    environment.prepare()
    django.setup()
    from bench import build
    database = build.ensure(environment.applications())
    if args.build_only:
        print(json.dumps(database, indent=2, default=str))
        return
    from bench import run

    run.main(database=database, started=started)
    if environment.search_scale():
        # Its own process: Django's connection is to one database per process.
        subprocess.run([sys.executable, "-m", "bench", "--search-only"], check=True)


if __name__ == "__main__":
    main()
