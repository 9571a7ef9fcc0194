"""python -m bench [--build-only]: build or reuse the database, then measure (see README)."""

import argparse
import json
import time

import django

from bench import environment


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--build-only", action="store_true", help="build the database, no run")
    args = parser.parse_args()
    started = time.monotonic()
    environment.prepare()
    django.setup()
    from bench import build

    database = build.ensure(environment.applications())
    if args.build_only:
        print(json.dumps(database, indent=2, default=str))
        return
    from bench import run

    run.main(database=database, started=started)


if __name__ == "__main__":
    main()
