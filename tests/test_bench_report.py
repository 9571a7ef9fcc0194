"""The figures in docs/performance.md are generated from bench/results.json, not kept by hand,
and a missed budget is reported with its measured cause. No database: results.json only."""

import copy
import json

import pytest

from bench import environment, report


@pytest.fixture
def results() -> dict:
    return json.loads(environment.RESULTS.read_text(encoding="utf-8"))


def test_committed_performance_section_is_the_one_results_json_generates(results):
    committed = report.generated_block(environment.PERFORMANCE_DOC.read_text(encoding="utf-8"))

    assert committed == report.section(results), (
        "docs/performance.md's generated section differs from bench/results.json: run "
        "`.venv/bin/python -m bench --report` (or `make bench`) and commit both"
    )


def test_every_budget_of_the_issue_is_reported(results):
    rows = report.budgets(results)

    assert [(row["operation"], row["budget"].split(",")[0]) for row in rows] == [
        ("search_number", "p95 ≤ 50 ms"),
        ("search_street", "p95 ≤ 50 ms"),
        ("search_owner", "p95 ≤ 50 ms"),
        ("search_no_match", "p95 ≤ 50 ms"),
        ("work_view", "p95 ≤ 30 ms"),
        ("inspection_view", "p95 ≤ 30 ms"),
        ("work_view", "one request in process ≤ 12 ms"),
        ("inspection_view", "one request in process ≤ 12 ms"),
        ("finish_and_close", rows[-1]["budget"]),
    ]
    assert rows[-1]["budget"].startswith("p95 ≤ 1.3 × bare WeasyPrint render p95 beside it")
    assert all((row["cause"] is None) == row["met"] for row in rows)


def test_a_page_missed_under_load_but_met_alone_is_blamed_on_queueing(results):
    changed = copy.deepcopy(results)
    changed["operations"]["work_view"]["p95_ms"] = 95.0
    changed["one_client"]["work_view"]["p95_ms"] = 21.0

    row = next(r for r in report.budgets(changed) if r["operation"] == "work_view")

    assert not row["met"]
    assert row["measured"] == "95.0 ms"
    assert row["one_client"] == "21.0 ms"
    assert "one client alone p95 21.0 ms (within the budget: the rest is queueing" in row["cause"]
    profile = changed["in_process"]["work_view"]
    assert f"in process {profile['total_ms']} ms" in row["cause"]
    assert f"SQL {profile['sql_ms']} ms in {profile['queries']} queries" in row["cause"]
    assert f"`{profile['profile']['project'][0]['function']}`" in row["cause"]
    assert "**work_view**" in report.section(changed)


def test_a_page_slow_alone_is_blamed_on_the_request_itself(results):
    changed = copy.deepcopy(results)
    changed["operations"]["inspection_view"]["p95_ms"] = 250.0
    changed["one_client"]["inspection_view"]["p95_ms"] = 180.0

    row = next(r for r in report.budgets(changed) if r["operation"] == "inspection_view")

    assert "one client alone p95 180.0 ms (over the budget already" in row["cause"]


def test_close_is_judged_against_the_bare_render_beside_it(results):
    changed = copy.deepcopy(results)
    close = changed["operations"]["finish_and_close"]
    close.update(p95_ms=390.0, baseline_p95_ms=300.0)
    met = report.budgets(changed)[-1]
    close.update(p95_ms=400.0)
    missed = report.budgets(changed)[-1]

    assert (met["met"], met["measured"]) == (True, "390 ms = 1.30 ×")
    assert (missed["met"], missed["measured"]) == (False, "400 ms = 1.33 ×")
    assert missed["cause"].startswith("rounds (close p95 ÷ bare render p95 beside it): ")


def test_the_machines_speed_is_reported_when_the_run_recorded_it(results):
    """Runs on machines of different speeds are told apart: the section says how fast the
    machine ran Python before and after the timed run (a run from before it says nothing)."""
    changed = copy.deepcopy(results)
    changed["run"].pop("python_loop_seconds", None)
    assert "Python loop" not in report.section(changed)

    changed["run"]["python_loop_seconds"] = [0.412, 0.398]

    assert (
        "The machine's speed: a Python loop of 3 million additions took 0.412 s before the "
        "timed run and 0.398 s after"
    ) in " ".join(report.section(changed).split())
