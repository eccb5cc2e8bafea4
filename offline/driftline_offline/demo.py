"""``make demo``: the drift and stable scenarios of the example model, end to end on the offline stack.

For each scenario a fresh stack is deployed from ``template.yaml`` (``Stage=local``) on a simulated clock,
the example classifier is set up (:func:`driftline_offline.scenario.seed_example`: champion trained by a
script-mode ``CreateTrainingJob``, drift baseline, endpoint with Data Capture, config registered through the
API function) and every simulated day sends its traffic through the endpoint, lands its ground truth and
lets the daily schedule run the pipeline. The day-by-day table is printed as it goes; at the end
``build/demo/summary.json`` and ``build/demo/report.html`` are written, also when a run failed (the exit
status is then 1 and the failure's reason is printed). ``details.json`` holds the report's details and
each day's outcome, timings and failure reason; the functions' own logs go to ``functions.log``.

Usage::

    python -m driftline_offline.demo [--days 16] [--rows 1500] [--out build/demo] [--scenario drift ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

from . import OfflineStack
from .scenario import MODEL_ID, ROOT, TEMPLATE, DayResult, Example, seed_example

SUMMARY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
EXTRA_METRICS = ("average_precision", "balanced_accuracy", "log_loss", "brier", "mcc")


@dataclass
class ScenarioRun:
    """What one scenario produced: the summary ``S``, the report details and the timings."""

    name: str
    summary: dict[str, Any]
    details: dict[str, Any]
    setup_seconds: float
    days_seconds: float
    execution_seconds: list[float] = field(default_factory=list)
    retrain_execution_seconds: list[float] = field(default_factory=list)
    execution_cpu_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def record(self, results: Sequence[Any], entries: Sequence[Mapping[str, Any]]) -> ScenarioRun:
        """Add each day's execution timing (plain or retrain) and failure; returns ``self``."""
        for r, e in zip(results, entries, strict=True):
            (self.retrain_execution_seconds if e["decision"]["retrain"] else self.execution_seconds).append(r.seconds)
            if not e["decision"]["retrain"]:
                self.execution_cpu_seconds.append(r.cpu_seconds)
            if r.status != "SUCCEEDED":
                self.failures.append(f"{self.name} day {r.day}: {r.status}: {r.error}")
        return self


# ----------------------------------------------------------------------------------------------- per day
def _version(v: Any) -> str | None:
    return None if v is None else f"v{v}"


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def day_entry(result: DayResult, serving_version: Any) -> dict[str, Any]:
    """One element of ``S["days"]`` from a day's execution output (or, for a failed run, its run record)."""
    out = result.result or {}
    run = result.run or {}
    metrics_src = out.get("metrics") or run.get("metrics") or {}
    metrics = {k: _finite(metrics_src.get(k)) for k in (*SUMMARY_METRICS, *EXTRA_METRICS) if k in metrics_src}
    drift_src = out.get("drift") or run.get("drift") or {}
    decision_src = out.get("decision") or run.get("decision") or {}
    deployment = out.get("deployment") or {}
    deployed = _version(deployment.get("version")) if deployment.get("status") == "InService" else None
    entry: dict[str, Any] = {
        "day": result.day,
        "model_version": _version(serving_version) or "v1",
        "metrics": metrics,
        "drift": {"detected": bool(drift_src.get("detected")),
                  "drifted_features": list(drift_src.get("driftedFeatures") or [])},
        "decision": {"retrain": bool(decision_src.get("retrain")), "reasons": list(decision_src.get("reasons") or [])},
        "deployed_version": deployed,
        "execution_status": result.status,
    }
    return entry


def day_extra(result: DayResult) -> dict[str, Any]:
    """What the table and ``details.json`` show beyond the summary schema: outcome, rows, timings, error."""
    out = result.result or {}
    return {"day": result.day, "outcome": out.get("outcome") or (result.run or {}).get("outcome"),
            "rows": result.rows, "execution_seconds": round(result.seconds, 4),
            "execution_cpu_seconds": round(result.cpu_seconds, 4), "execution_arn": result.execution_arn,
            "error": result.error}


def scenario_summary(days: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "days": days,
        "retrains": sum(1 for d in days if d["decision"]["retrain"]),
        "deployments": sum(1 for d in days if d["deployed_version"]),
        "executions": dict(Counter(d["execution_status"] for d in days)),
    }


# ----------------------------------------------------------------------------------------------- details
def _json_at(ex: Example, uri: str | None) -> dict[str, Any]:
    if not uri:
        return {}
    try:
        return json.loads(ex.get(uri))
    except Exception:  # noqa: BLE001 - a missing result only leaves a chart out of the report
        return {}


def _curves_of(labels: Any, scores: Any) -> dict[str, Any]:
    import driftline_metrics as dm
    import numpy as np

    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if y.size == 0 or np.unique(y).size < 2:
        return {}
    fpr, tpr, _ = dm.roc_curve(y, s)
    precision, recall, _ = dm.precision_recall_curve(y, s)
    idx = np.unique(np.linspace(0, fpr.size - 1, min(fpr.size, 200)).round().astype(int))
    jdx = np.unique(np.linspace(0, precision.size - 1, min(precision.size, 200)).round().astype(int))
    return {"roc": {"fpr": fpr[idx].tolist(), "tpr": tpr[idx].tolist()},
            "pr": {"precision": precision[jdx].tolist(), "recall": recall[jdx].tolist()}}


def _comparison_curves(ex: Example, run: dict[str, Any]) -> dict[str, Any]:
    """Champion and challenger curves on the rows they were compared on (dataset CSV + job output)."""
    from driftline_common.config import parse_config
    from driftline_common.datasets import parse_dataset_csv, read_dataset_text
    from metric_evaluator.compare import read_challenger_predictions

    training = run.get("training") or {}
    dataset_uri = run.get("datasetUri")
    if not training.get("jobName") or not dataset_uri:
        return {}
    cfg = parse_config(ex.config)
    dataset = parse_dataset_csv(cfg, read_dataset_text(dataset_uri, ex.get))
    output_uri = training.get("outputUri") or ex.config["training"]["outputUri"]
    tar_uri = f"{output_uri}/{training['jobName']}/output/output.tar.gz"
    ids, challenger, _ = read_challenger_predictions(ex.get(tar_uri))
    pos = {rid: i for i, rid in enumerate(ids.tolist())}
    rows = [(i, pos[r]) for i, r in enumerate(dataset.ids.tolist()) if r in pos]
    y = [int(dataset.y_true[i] == "1") for i, _ in rows]
    comparison = run.get("comparison") or {}
    return {
        f"champion (v{run.get('servingVersion', 1)})": _curves_of(y, [dataset.scores[i] for i, _ in rows]),
        "challenger": _curves_of(y, [challenger[j] for _, j in rows]),
        "_comparison": {k: comparison.get(k) for k in ("metric", "champion", "challenger", "delta", "promote")},
    }


def scenario_details(ex: Example, results: list[DayResult], days: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's details for one scenario: thresholds, confusion matrices, curves, per-feature drift."""
    thresholds = {t["metric"]: t.get("min", t.get("max")) for t in ex.config["thresholds"]}
    matrices: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    comparisons: dict[int, Any] = {}
    feature_drift: dict[str, list[float | None]] = {f["name"]: [] for f in ex.config["features"]}
    evaluations = {r.day: _json_at(ex, (r.run or {}).get("evaluationUri")) for r in results}
    for r in results:
        drift_doc = _json_at(ex, ((r.run or {}).get("drift") or {}).get("resultUri"))
        per = drift_doc.get("features") or {}
        for name, values in feature_drift.items():
            values.append(_finite((per.get(name) or {}).get("effectSize")))

    def add_matrix(label: str, day: int) -> None:
        cm = ((evaluations.get(day) or {}).get("details") or {}).get("confusionMatrix")
        if cm:
            matrices[f"{label} — day {day}"] = cm["matrix"]

    if results:
        add_matrix(f"{days[0]['model_version']}", results[0].day)
    retrain_days = [r for r in results if ((r.run or {}).get("training") or {}).get("jobName")]
    for r in retrain_days:
        add_matrix(f"champion {days[results.index(r)]['model_version']} (retrain run)", r.day)
        try:
            got = _comparison_curves(ex, {**r.run, "servingVersion": days[results.index(r)]["model_version"][1:]})
        except Exception as exc:  # noqa: BLE001 - curves are illustrations; the run itself is in the table
            got = {"_error": str(exc)}
        curves.update({f"day {r.day}: {k}": v for k, v in got.items() if not k.startswith("_") and v})
        comparisons[r.day] = {k: (r.run.get("comparison") or {}).get(k) for k in (
            "metric", "champion", "challenger", "delta", "minImprovement", "sampleSize", "promote", "reasons")}
    if results:
        last = results[-1]
        add_matrix(f"{days[-1]['model_version']} (last day)", last.day)
        if not retrain_days:
            details = (evaluations.get(last.day) or {}).get("details") or {}
            if details.get("rocCurve"):
                curves[f"{days[-1]['model_version']} (day {last.day})"] = {
                    "roc": {"fpr": details["rocCurve"]["fpr"], "tpr": details["rocCurve"]["tpr"]},
                    "pr": {"precision": details["prCurve"]["precision"], "recall": details["prCurve"]["recall"]},
                }
    return {"thresholds": thresholds, "confusion_matrices": matrices, "curves": curves,
            "feature_drift": feature_drift, "comparisons": comparisons, "days": [r.day for r in results]}


# ----------------------------------------------------------------------------------------------- table
HEADER = (f"{'day':>3} {'model':>5} {'rows':>5} {'acc':>6} {'prec':>6} {'rec':>6} {'f1':>6} {'auc':>6}  "
          f"{'drift':<14} {'decision':<9} {'reasons':<44} {'deploy':>6} {'status':<9} {'exec s':>6}")


def _m(v: Any) -> str:
    return f"{v:6.3f}" if isinstance(v, float) else f"{'-':>6}"


def format_day(d: dict[str, Any], extra: dict[str, Any]) -> str:
    m = d["metrics"]
    drift = ",".join(d["drift"]["drifted_features"]) if d["drift"]["detected"] else "-"
    decision = "RETRAIN" if d["decision"]["retrain"] else "keep"
    reasons = ",".join(d["decision"]["reasons"])[:44]
    return (f"{d['day']:>3} {d['model_version']:>5} {extra['rows']:>5} {_m(m.get('accuracy'))} "
            f"{_m(m.get('precision'))} {_m(m.get('recall'))} {_m(m.get('f1'))} {_m(m.get('roc_auc'))}  "
            f"{drift:<14} {decision:<9} {reasons:<44} {d['deployed_version'] or '-':>6} "
            f"{d['execution_status']:<9} {extra['execution_seconds']:6.3f}")


# ----------------------------------------------------------------------------------------------- scenario
def one_line_error(error: str, limit: int = 240) -> str:
    """A failure as one line: ``ErrorType: first line of the message``, at most ``limit`` characters.

    An execution's cause is often the Lambda error envelope (JSON with ``errorType``, ``errorMessage`` and the
    stack trace) or a state machine error naming it; the stack trace and interpreter internals stay in the files.

    >>> one_line_error('States.TaskFailed: {"errorType": "ModelNotFound", "errorMessage": "no model m1", '
    ...                '"stackTrace": ["  File ..."]}')
    'States.TaskFailed: ModelNotFound: no model m1'
    >>> one_line_error("RuntimeError: boom\\nTraceback (most recent call last): ...")
    'RuntimeError: boom'
    """
    text = str(error)
    start = text.find("{")
    if start >= 0:
        try:
            envelope = json.loads(text[start:])
        except ValueError:
            envelope = None
        if isinstance(envelope, dict) and ("errorType" in envelope or "errorMessage" in envelope):
            head = text[:start].strip().rstrip(":").strip()
            typed = f"{envelope.get('errorType', 'Error')}: {str(envelope.get('errorMessage', '')).strip()}"
            text = f"{head}: {typed}" if head else typed
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_scenario(name: str, *, days: int, rows: int, out: TextIO, template: Path = TEMPLATE,
                 config_overrides: dict[str, Any] | None = None) -> ScenarioRun:
    """Deploy a fresh stack, set the example up and simulate ``days`` days (day 0 .. days-1) of ``name``."""
    from driftline_common.aws import reset_clients
    from driftline_examples import traffic

    scenario = traffic.SCENARIOS[name]
    reset_clients()  # the functions' cached clients belong to the previous stack's mock
    t0 = time.perf_counter()
    with OfflineStack.running(template, parameters={"Stage": "local"}, clock=traffic.ORIGIN) as stack:
        ex = seed_example(stack, scenario=scenario, rows_per_day=rows, config_overrides=config_overrides)
        setup = time.perf_counter() - t0
        print(f"[{name}] set-up {setup:.2f} s: stack deployed, champion trained "
              f"({ex.champion['jobName']}), baseline built, endpoint {ex.config['endpointName']} in service",
              file=out, flush=True)
        print(HEADER, file=out, flush=True)
        t1 = time.perf_counter()
        results: list[DayResult] = []
        entries: list[dict[str, Any]] = []
        extras: list[dict[str, Any]] = []
        models = ex.models()
        for d in range(days):
            serving = (models.get_state(MODEL_ID).get("champion") or {}).get("version")
            if d > 0:
                ex.send_traffic(d)
                ex.write_ground_truth(d)
            result = ex.run_day(d)
            results.append(result)
            entry = day_entry(result, serving)
            entries.append(entry)
            extras.append(day_extra(result))
            print(format_day(entry, extras[-1]), file=out, flush=True)
            if result.error:
                print(f"      run failed: {one_line_error(result.error)} (details: {name} day {result.day} in "
                      "details.json and functions.log)", file=out, flush=True)
        days_seconds = time.perf_counter() - t1
        summary = scenario_summary(entries)
        details = {**scenario_details(ex, results, entries), "runs": extras, "setup_seconds": round(setup, 3)}
    return ScenarioRun(name, summary, details, setup, days_seconds).record(results, entries)


def _versus(value: float | None, limit: float) -> str:
    """The target beside a measurement, and whether this run met it (the median for per-execution figures)."""
    if value is None:
        return f"(target < {limit:g} s: not measured)"
    return f"(target < {limit:g} s: {'met' if value < limit else 'MISSED'})"


def _stats(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    return (f"median {statistics.median(values):.3f} s, max {max(values):.3f} s, "
            f"mean {statistics.fmean(values):.3f} s over {len(values)}")


class _Prefixed:
    """A text stream that writes whole lines, each starting with ``prefix`` (two processes share a terminal)."""

    def __init__(self, stream: TextIO, prefix: str) -> None:
        self.stream, self.prefix, self.pending = stream, prefix, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        if lines:
            self.stream.write("".join(line + "\n" if line.startswith(self.prefix) or not line.strip()
                                      else f"{self.prefix}{line}\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def play_one(name: str, *, days: int, rows: int, log_path: Path, out: TextIO) -> ScenarioRun | str:
    """One scenario on its own fresh stack, the functions' logs appended to ``log_path``; the error as text."""
    from driftline_examples.demo_models import MODELS, run_model

    print(f"\n=== scenario {name}: {days} simulated days, {rows} labelled rows/day in 6 requests ===", file=out,
          flush=True)
    with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            play = run_model if name in MODELS else run_scenario
            return play(name, days=days, rows=rows, out=out)
        except Exception as exc:  # noqa: BLE001 - still write what we have, then fail
            return f"{type(exc).__name__}: {exc}"


def _play_in_child(name: str, days: int, rows: int, log_path: Path) -> ScenarioRun | str:
    """A worker process's scenario: its table on the stdout it inherited, each line prefixed with its name."""
    out = cast(TextIO, _Prefixed(sys.stdout, f"[{name}] "))
    return play_one(name, days=days, rows=rows, log_path=log_path, out=out)


def play_all(names: Sequence[str], *, days: int, rows: int, jobs: int, log_path: Path, out: TextIO,
             play: Any = None) -> list[tuple[str, ScenarioRun | str]]:
    """``[(name, ScenarioRun or error)]`` in the order of ``names``.

    Every scenario deploys its own stack, so with ``jobs`` > 1 they are played side by side in forked worker
    processes (each line of their tables prefixed with ``[name]``); one job plays them here, one after another.
    """
    play = play or _play_in_child
    if jobs <= 1 or len(names) <= 1:
        return [(n, play_one(n, days=days, rows=rows, log_path=log_path, out=out)) for n in names]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out.flush()
    with ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [(n, pool.submit(play, n, days, rows, log_path)) for n in names]
        return [(n, f.result()) for n, f in futures]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m driftline_offline.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=16, help="simulated days per scenario (>= 14 for the demo)")
    parser.add_argument("--rows", type=int, default=1500,
                        help="labelled rows per simulated day (sent as 6 multi-row CSV requests)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "demo")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="scenarios played at once, each in its own process and stack (default: 2 cores)")
    from driftline_examples.demo_models import MODELS

    parser.add_argument("--scenario", action="append", choices=("drift", "stable", *MODELS),
                        help="run only this scenario (repeatable); default all: the classifier's drift and stable, "
                             "the regression and multiclass models' drift")
    args = parser.parse_args(argv)
    names = args.scenario or ["drift", "stable", *MODELS]
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    stdout = sys.stdout
    runs: list[ScenarioRun] = []
    failures: list[str] = []
    started = time.perf_counter()
    log_path = out_dir / "functions.log"
    log_path.write_text("", encoding="utf-8")
    for name, outcome in play_all(names, days=args.days, rows=args.rows, jobs=args.jobs, log_path=log_path,
                                  out=stdout):
        if isinstance(outcome, str):  # (not isinstance ScenarioRun: under -m this module is also __main__)
            failures.append(f"{name}: set-up or simulation failed: {outcome}")
            print(f"[{name}] FAILED: {one_line_error(outcome)}", file=stdout, flush=True)
        else:
            runs.append(outcome)
    total = time.perf_counter() - started
    for r in runs:
        failures.extend(r.failures)
    summary = {"scenarios": {r.name: r.summary for r in runs}}
    details = {r.name: r.details for r in runs}
    from driftline_examples.report import render_report

    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    (out_dir / "report.html").write_text(render_report(summary, details), encoding="utf-8")
    (out_dir / "details.json").write_text(json.dumps(details, indent=1, default=str) + "\n", encoding="utf-8")
    setup = sum(r.setup_seconds for r in runs)
    simulated = sum(r.days_seconds for r in runs)
    plain = [s for r in runs for s in r.execution_seconds]
    retrain = [s for r in runs for s in r.retrain_execution_seconds]
    print("\n=== timings ===", file=stdout)
    print(f"set-up (deploy + champion training + endpoint), all scenarios: {setup:.2f} s", file=stdout)
    print(f"scenarios after set-up (traffic, ground truth, scheduled runs): {simulated:.2f} s"
          + (f" (summed over the scenarios, {args.jobs} played at once)" if args.jobs > 1 and len(names) > 1 else ""),
          file=stdout)
    median = statistics.median(plain) if plain else None
    print(f"one pipeline execution, schedule tick to end (no retrain): {_stats(plain)} {_versus(median, 0.5)}",
          file=stdout)
    if runs and runs[0].details.get("runs"):
        print(f"  (the first one, day 0 of {runs[0].name}, is a cold start that imports the handlers: "
              f"{runs[0].details['runs'][0]['execution_seconds']:.3f} s)", file=stdout)
    print(f"  same, CPU time of the process: {_stats([s for r in runs for s in r.execution_cpu_seconds])}",
          file=stdout)
    print(f"one pipeline execution with retrain + compare + deploy: {_stats(retrain)}", file=stdout)
    print(f"total wall time: {total:.2f} s {_versus(total, 60)}", file=stdout)
    for r in runs:
        s = r.summary
        print(f"{r.name}: retrains {s['retrains']}, deployments {s['deployments']}, executions {s['executions']}",
              file=stdout)
    print(f"wrote {out_dir / 'summary.json'}, {out_dir / 'report.html'} (function logs: {log_path})", file=stdout)
    if failures:
        print("\nFAILED:", file=stdout)
        for f in failures:
            print(f"  {one_line_error(f)}", file=stdout)
        print(f"details: {out_dir / 'details.json'} and {log_path}", file=stdout)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
