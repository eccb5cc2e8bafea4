"""The decide step's history read on the offline stack: ``RunStore.list(limit=500)`` over a growing runs table.

The decide step's whole-history read lists up to 500 earlier run records (``retrain_launcher.common.HISTORY_LIMIT``);
it was every run's read until ``retrain_launcher.decide.read_history`` first read only the runs whose window ended
after the policy's time bound (the whole read is now its second read, when that set lacks the end of the breach
streak). This measures the whole read on the deployed template's ``RunsTable`` with run records shaped
like the pipeline's (~70 attribute values each: window, metrics, intervals, decision with its CUSUM entries,
drift, number notes), side by side in one process: with the offline runtime's moto extensions, and moto as shipped
(no runtime current). Prints CPU seconds per list call (the best of ``--repeats``) and per run record read.

Usage::

    python benchmarks/bench_run_history.py [--runs 100 365] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_record(k: int) -> dict[str, Any]:
    """A SUCCEEDED run record of window ``k`` (the fields a completed run of the pipeline stores)."""
    day = f"2026-{1 + k // 28 % 12:02d}-{1 + k % 28:02d}"
    metrics = {m: Decimal("0.812345") for m in ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc",
                                               "roc_auc", "average_precision", "log_loss", "brier")}
    return {
        "modelId": "bench-history", "runId": f"run-{k:05d}", "status": "SUCCEEDED", "outcome": "healthy",
        "startedAt": f"{day}T00:00:{k % 60:02d}Z", "window": {"start": f"{day}T00:00:00Z", "end": f"{day}T23:59:59Z"},
        "executionArn": f"arn:aws:states:us-east-1:123456789012:execution:driftline-pipeline:run-{k:05d}",
        "metrics": metrics, "breached": False, "breaches": [],
        "intervals": {m: {"low": Decimal("0.8"), "high": Decimal("0.83"), "n": 5000} for m in ("roc_auc", "accuracy")},
        "decision": {"retrain": False, "reasons": ["HEALTHY"], "breachStreak": 0, "sampleSize": 5000,
                     "newLabels": 5000 * k, "retrainsInPeriod": 0, "breachedMetrics": [],
                     "cusum": [{"metric": m, "min": Decimal("0.78"), "statistic": Decimal(0), "windows": 0}
                               for m in ("roc_auc", "accuracy")]},
        "drift": {"detected": False, "driftedFeatures": [], "datasetDrift": False,
                  "effects": {f"f{j}": Decimal("0.012") for j in range(6)}},
        "driftDetected": False, "evaluationStatus": "EVALUATED", "configVersion": 1,
        "datasetUri": f"s3://driftline-databucket/runs/bench-history/run-{k:05d}/dataset/",
        "evaluationUri": f"s3://driftline-databucket/runs/bench-history/run-{k:05d}/evaluation.json",
        "numberNotes": {"metrics": {}, "drift": {}, "decision": {}},
    }


def main(argv: list[str] | None = None) -> int:
    from driftline_common.aws import reset_clients
    from driftline_common.settings import Settings
    from driftline_common.store import RunStore
    from driftline_offline import OfflineStack
    from samlocal import REGISTRY

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 365])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    reset_clients()
    rows: list[dict[str, Any]] = []
    with OfflineStack.running(ROOT / "template.yaml", parameters={"Stage": "local"}) as stack:
        settings = Settings(bucket=stack.resource("DataBucket"), models_table=stack.resource("ModelsTable"),
                            runs_table=stack.resource("RunsTable"), locks_table=stack.resource("LocksTable"),
                            event_bus=stack.resource("EventBus"))
        store = RunStore(settings)
        written = 0
        for n in sorted(args.runs):
            for k in range(written, n):
                store.table.put_item(Item=run_record(k))
            written = n

            def best(n: int = n) -> float:
                times = []
                for _ in range(args.repeats):
                    t = time.process_time()
                    got = store.list("bench-history", limit=500)
                    times.append(time.process_time() - t)
                    assert len(got) == min(n, 500)
                return min(times)

            ours = best()
            with REGISTRY.suspended(stack.runtime):  # no current runtime: moto as shipped
                shipped = best()
            rows.append({"runs": n, "extensionsCpuSeconds": round(ours, 4), "shippedCpuSeconds": round(shipped, 4),
                         "ratio": round(shipped / ours, 2), "msPerRunRecord": round(1000 * ours / n, 3)})
    reset_clients()
    print(json.dumps({"list": rows, "repeats": args.repeats}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
