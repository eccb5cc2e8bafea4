"""Benchmark: one scheduled, healthy pipeline execution on the REAL template, offline.

``template.yaml`` is deployed with :class:`driftline_offline.OfflineStack` (moto, the unchanged ASL, the real
handlers in-process) and the example is seeded with :func:`driftline_offline.scenario.seed_example` (champion,
baseline, endpoint, config; the ``stable`` traffic scenario). Day 0 is run once untimed (the cold start: handler
imports). Then for each of N days the day's traffic and ground truth are written (untimed) and the clock is
moved to the day's end, where the template's daily schedule starts the run: the time from the schedule firing
to the execution's end (``DayResult.seconds``) is measured. Every measured execution must be SUCCEEDED with
outcome ``healthy`` (no retrain), or the benchmark fails. Target: < 0.5 s (median and max).

There is no reference implementation: ``reference`` and ``ratio`` are empty. The functions' logs and EMF
metrics (stdout) are discarded while the stack runs, so that ``benchmarks/run.py`` prints a clean table.

Run: ``OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/bench_pipeline.py``
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# the offline runtime, the example and the shared layer, as pytest's pythonpath has them
for _p in (ROOT, ROOT / "offline", ROOT / "examples", ROOT / "layers" / "common", ROOT / "layers" / "metrics"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

N_RUNS = 10
ROWS_PER_DAY = 1500  # seed_example's default, as in the demo
TARGET_S = 0.5


def measure(n_runs: int = N_RUNS, rows_per_day: int = ROWS_PER_DAY) -> dict[str, Any]:
    """Seconds of ``n_runs`` scheduled healthy executions (after one untimed warm-up run) and the cold run's."""
    from driftline_common.aws import reset_clients
    from driftline_examples import traffic
    from driftline_offline import OfflineStack
    from driftline_offline.scenario import TEMPLATE, seed_example

    reset_clients()
    with warnings.catch_warnings(), open(os.devnull, "w", encoding="utf-8") as sink, \
            contextlib.redirect_stdout(sink), \
            OfflineStack.running(TEMPLATE, parameters={"Stage": "local"}, clock=traffic.ORIGIN) as stack:
        # a run that publishes no metric (e.g. the deployer's polling) is expected: Powertools warns
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        ex = seed_example(stack, scenario=traffic.STABLE, rows_per_day=rows_per_day)
        cold = ex.run_day(0)
        results = [cold]
        for d in range(1, n_runs + 1):
            ex.send_traffic(d)
            ex.write_ground_truth(d)
            results.append(ex.run_day(d))
    reset_clients()
    for r in results:
        outcome = r.result.get("outcome") or r.run.get("outcome")
        if r.status != "SUCCEEDED" or outcome != "healthy":
            raise RuntimeError(f"day {r.day}: expected a SUCCEEDED healthy run, got {r.status} / {outcome!r}"
                               f" ({r.error})")
    return {"cold_s": cold.seconds, "seconds": [r.seconds for r in results[1:]], "rows": rows_per_day}


def run() -> list[dict[str, Any]]:
    """Two rows: the median and the max of the N timed executions (seconds, target < 0.5 s)."""
    m = measure()
    times = m["seconds"]
    note = f"real template, {len(times)} runs of {m['rows']} rows/day; cold first run {m['cold_s']:.2f} s"
    rows = []
    for stat, value in (("median", statistics.median(times)), ("max", max(times))):
        rows.append({
            "case": f"pipeline: scheduled healthy execution, {stat} of {len(times)}",
            "driftline": float(value), "reference": None, "ratio": None, "unit": "s",
            "target": f"< {TARGET_S:g} s", "met": bool(value < TARGET_S), "note": note,
            "seconds": times,
        })
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['case']}: {r['driftline']:.3f} s (target {r['target']}, met: {r['met']}) — {r['note']}")
    print("all runs (s):", " ".join(f"{t:.3f}" for t in r["seconds"]))
