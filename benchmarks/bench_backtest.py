"""``driftline backtest`` throughput: a year of daily windows at 5,000 rows a day, at most 12 retrains.

Target (issue 11): the whole replay within 5 minutes on the 2-core development machine. The history is a
binary population (the scenario library's logistic concept over six features) whose effects of f1 and f3
reverse every 30 days, so the real retrain policy (2 consecutive breaches, 48 h cooldown, at most 2 retrains a
week) retrains about once per change: ~12 retrains in the year. The history CSV and the config are written to a
temporary directory; the replay is the real command (``driftline_cli.main``) with the example classifier's
script-mode code. Prints wall and CPU time (this process, and the training jobs' subprocesses apart),
per-window execution and CPU times, retrains, and the load average before and after (the machine is shared:
compare the CPU time, and the wall time at the load shown).

Usage::

    python benchmarks/bench_backtest.py [--days 365] [--rows 5000] [--keep DIR] [--time-history-reads]

``--time-history-reads`` adds ``historyReads``: the decide step's run-history reads (``RunStore.list`` with
``HISTORY_LIMIT``), CPU of the calling thread per read over the first and last ten, and the records they returned.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 300.0
MAX_RETRAINS = 12


def _scenario(days: int, rows: int) -> Any:
    from driftline_examples.scenarios.base import Expectation, Feature, Scenario, classifier
    from driftline_examples.scenarios.populations import LogisticPopulation, Schedule

    features = tuple(Feature(f"f{j}") for j in range(6))
    return Scenario(
        name="bench-year", description="the concept reverses every 30 days", features=features,
        population=LogisticPopulation(coef=(1.2, -1.0, 0.8, 0.5, 0.0, 0.0), intercept=-0.3,
                                      coef_after=(1.2, 1.0, 0.8, -0.5, 0.0, 0.0), concept=Schedule.alternate(30)),
        model=classifier(features), expected=Expectation("benchmark"), days=days, rows_per_day=rows,
        model_id="bench-year", config={"thresholds": [{"metric": "roc_auc", "min": 0.78},
                                                      {"metric": "accuracy", "min": 0.70}]})


def _children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time_history_reads() -> list[tuple[int, float, int]]:
    """Wrap ``RunStore.list`` (in this process: the functions run in-process) to record ``(limit, CPU seconds of
    the calling thread, records returned)`` per call."""
    from driftline_common.store import RunStore

    calls: list[tuple[int, float, int]] = []
    original = RunStore.list

    def timed(self: Any, model_id: str, **kwargs: Any) -> list[dict[str, Any]]:
        t = time.thread_time()
        out = original(self, model_id, **kwargs)
        calls.append((int(kwargs.get("limit", 50)), time.thread_time() - t, len(out)))
        return out

    RunStore.list = timed  # type: ignore[method-assign]
    return calls


def _reads_summary(calls: list[tuple[int, float, int]]) -> dict[str, Any]:
    """The decide step's reads (``limit`` = ``HISTORY_LIMIT``): CPU ms per call over the first and last ten, records."""
    from retrain_launcher.common import HISTORY_LIMIT

    decide = [c for c in calls if c[0] == HISTORY_LIMIT]
    if not decide:
        return {"calls": 0}
    return {"calls": len(decide), "cpuSeconds": round(sum(c[1] for c in decide), 2),
            "firstTenMs": round(1000 * statistics.fmean(c[1] for c in decide[:10]), 1),
            "lastTenMs": round(1000 * statistics.fmean(c[1] for c in decide[-10:]), 1),
            "meanRecords": round(statistics.fmean(c[2] for c in decide), 1), "maxRecords": max(c[2] for c in decide)}


def main(argv: list[str] | None = None) -> int:
    from driftline_cli.main import main as driftline
    from driftline_examples.history import write_history
    from driftline_offline.scenario import model_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365, help="evaluated days (7 more train the champion)")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="write the history, config and outputs here (default: a temp dir)")
    parser.add_argument("--time-history-reads", action="store_true",
                        help="time each RunStore.list call (CPU of the calling thread) and report the decide step's")
    args = parser.parse_args(argv)
    reads = _time_history_reads() if args.time_history_reads else None
    train_days = 7
    scenario = _scenario(args.days + train_days, args.rows)
    with tempfile.TemporaryDirectory(prefix="driftline-bench-backtest-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        history = work / "history.csv"
        n = write_history(history, scenario, days=args.days + train_days, rows=args.rows)
        config = work / "config.json"
        config.write_text(json.dumps(model_config(scenario, "driftline-databucket")))
        load_before = os.getloadavg()
        wall, cpu, kids = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF), _children()
        code = driftline(["backtest", str(config), "--data", str(history), "--time-column", "event_time",
                          "--label-column", "label", "--id-column", "request_id", "--source-dir",
                          str(ROOT / "examples" / "driftline_examples" / "classifier"), "--train-windows",
                          str(train_days), "--out", str(work / "out"), "--output", "json"])
        after = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter() - wall
        cpu_s = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
        kids_s = _children() - kids  # the training jobs' script-mode subprocesses
        load_after = os.getloadavg()
        doc = json.loads((work / "out" / "backtest.json").read_text()) if code in (0, 1) else {}
    windows = doc.get("windows") or []
    ex = [w["executionSeconds"] for w in windows if not w["decision"]["retrain"]]
    rex = [w["executionSeconds"] for w in windows if w["decision"]["retrain"]]
    wc = [w["executionCpuSeconds"] for w in windows]
    summary = doc.get("summary") or {}
    result = {
        "rows": n, "windows": len(windows), "rowsPerWindow": args.rows, "exitCode": code,
        "wallSeconds": round(wall, 1), "cpuSeconds": round(cpu_s, 1), "childCpuSeconds": round(kids_s, 1),
        "targetSeconds": TARGET_SECONDS,
        "windowCpuSeconds": {"mean": round(statistics.fmean(wc), 3) if wc else None,
                             "firstTen": round(statistics.fmean(wc[:10]), 3) if wc else None,
                             "lastTen": round(statistics.fmean(wc[-10:]), 3) if wc else None,
                             # the mean of each hundred windows in order (does a window cost more as history grows?)
                             "byHundred": [round(statistics.fmean(wc[i:i + 100]), 3) for i in range(0, len(wc), 100)]},
        "landSeconds": round(sum(w.get("landSeconds") or 0 for w in windows), 1),
        "retrains": summary.get("retrains"), "deployments": summary.get("deployments"),
        "setupSeconds": (doc.get("variants") or [{}])[0].get("setupSeconds"),
        "executionSeconds": {"median": round(statistics.median(ex), 3) if ex else None,
                             "max": round(max(ex), 3) if ex else None},
        "retrainExecutionSeconds": {"median": round(statistics.median(rex), 3) if rex else None},
        "loadAverage": {"before": [round(v, 1) for v in load_before], "after": [round(v, 1) for v in load_after]},
        **({"historyReads": _reads_summary(reads)} if reads is not None else {}),
        "met": bool(windows) and wall <= TARGET_SECONDS and (summary.get("retrains") or 0) <= MAX_RETRAINS,
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "backtest.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
