"""The benchmark behind `make bench` (issue 7): a PostgreSQL database at the scale of a large
municipality, Threshold served by gunicorn, and concurrent clients timing each operation.

    python -m bench            # what `make bench` runs; BENCH_APPLICATIONS=200000 by default

Never part of `make test`. Everything it writes lives in the `threshold_bench` database,
bench/data/ (media, logs) and bench/results.json; docs/performance.md gets its generated
section rewritten between its markers.
"""
