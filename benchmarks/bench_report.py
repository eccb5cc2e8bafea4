"""The run report's CPU per pipeline execution, side by side with a reference renderer, in one run.

The report step runs after EVERY execution, so its cost multiplies through ``make test``, backtests and the
scenario suite. Measured in fresh interpreters, alternating this tree's ``driftline_report`` with a reference
tree (``--ref DIR``: a directory holding ``layers/plotting`` and ``functions/report`` of another commit, e.g. the
matplotlib renderer: ``git archive 5deac33~1 layers/plotting functions/report | tar -x -C /tmp/ref`` then
``--ref /tmp/ref``), so both see the same machine load. CPU time (``time.process_time``):

- ``import``: ``import driftline_report`` with an empty ``MPLCONFIGDIR`` (a Lambda cold start);
- ``render <case>``: ``build_report`` + ``render_html`` of one run, WARM (the median of ``--renders`` renders in
  one process after a first one, as a warm Lambda container or the offline runtime's process pays it), and
  ``first`` (the first render in the process);
- ``report step``: the ReportFunction's whole work (``report.logic.write_report``: run records and documents
  read, report built, rendered, both objects written) against moto, warm, 20 runs of history with drift documents,
  with the previous run's report stored (every execution but a model's first) and without.

Cases: binary, multiclass and regression runs with 20 runs of history, drift heat maps and a scored challenger;
binary and regression runs evaluated in 3 shards (merged chart data). Documents come from the real evaluator,
comparison and drift decision (``tests/report/_docs.py``), built once and shared by both renderers.

Usage: ``PYTHONPATH=... python -m benchmarks.bench_report [--repeat 3] [--renders 5] [--ref DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

CASES = ("binary", "multiclass", "regression", "binary-sharded", "regression-sharded")
HISTORY = 20

CHILD = r"""
import json, os, statistics, sys, time
cases_path, renders, step = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
c0 = time.process_time()
import driftline_report
out = {"import": time.process_time() - c0, "render": {}, "first": {}, "bytes": {}}
with open(cases_path) as fh:
    cases = json.load(fh)
for name, kw in cases.items():
    kw["drift_history"] = [tuple(x) for x in kw["drift_history"]]
    times = []
    for i in range(renders + 1):
        c0 = time.process_time()
        html = driftline_report.render_html(driftline_report.build_report(**kw))
        times.append(time.process_time() - c0)
    out["first"][name], out["render"][name] = times[0], statistics.median(times[1:])
    out["bytes"][name] = len(html)
if step:
    from benchmarks.bench_report import step_cpu
    out["step"] = step_cpu(cases["binary"], renders)
print(json.dumps(out))
"""


def build_cases() -> dict[str, dict[str, Any]]:
    """``build_report`` keyword arguments per case (JSON-safe), from the real evaluator / comparison / drift."""
    from tests.report import _docs as d
    from tests.report.test_comparison_charts import _compare
    from tests.report.test_sharded_charts import _sharded

    cases: dict[str, dict[str, Any]] = {}
    for name in CASES:
        kind = name.split("-")[0]
        runs = [d.run_record(kind, s % 6) for s in range(HISTORY)]
        for i, r in enumerate(runs):  # one day each (the documents' own windows repeat every 6 runs)
            r["runId"] = f"run-{i:03d}"
            r["window"] = {"start": f"2026-10-{i + 1:02d}T00:00:00Z", "end": f"2026-10-{i + 2:02d}T00:00:00Z"}
        runs[5].update(decision={"retrain": True}, training={"jobName": "job-5"})
        runs[6].update(comparison={"promote": True}, deployment={"status": "InService"})
        runs[11].update(status="FAILED", reason="TrainingFailed: the job failed")
        evaluation = runs[-1]["evaluation"]
        comparison = None
        if name.endswith("sharded"):
            evaluation = _sharded(kind)[0]
            runs[-1]["evaluation"] = evaluation
        else:
            comparison = _compare(kind)[0]
        cases[name] = {"run": runs[-1], "config": {"version": 3, "config": d.config(kind)}, "evaluation": evaluation,
                       "drift": d.drift(kind, 5), "comparison": comparison, "history": runs,
                       "drift_history": [(r["runId"], d.drift(kind, i % 6)) for i, r in enumerate(runs)],
                       "generated_at": "2026-12-03T12:00:00Z"}
    return cases


def step_cpu(case: dict[str, Any], renders: int) -> dict[str, float]:
    """Median CPU time of the ReportFunction's work (``write_report``) for the case's last run, warm, against moto:
    the case's runs recorded in DynamoDB, their evaluation and drift documents and the comparison in S3; ``alone``:
    no earlier report stored, ``after``: the previous run's report stored (as after every earlier execution)."""
    from moto import mock_aws

    fake = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    os.environ.update(fake)  # moto's placeholder credentials: nothing leaves the process
    from driftline_common.aws import reset_clients
    from driftline_common.config import parse_config
    from driftline_common.s3io import put_json
    from driftline_common.settings import Settings
    from driftline_common.store import ModelStore, RunStore
    from report import logic

    from tests.conftest import create_stack_resources

    reset_clients()
    with mock_aws():
        names = {"DRIFTLINE_BUCKET": "driftline-test-data", "MODELS_TABLE": "bench-models", "RUNS_TABLE": "bench-runs",
                 "LOCKS_TABLE": "bench-locks", "EVENT_BUS_NAME": "bench", "STAGE": "dev", "EVENT_SOURCE": "driftline",
                 "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/bench", "ALERTS_TOPIC_ARN": "arn:aws:sns:x"}
        create_stack_resources(names)
        os.environ.update(names)
        settings = Settings.from_env()
        body = case["config"]["config"]
        ModelStore(settings).put_config(parse_config(body, model_id=body["modelId"]))
        runs = RunStore(settings)
        model = body["modelId"]
        for (run_id, drift), rec in zip(case["drift_history"], case["history"], strict=True):
            rec = dict(rec)
            ev = rec.pop("evaluation")
            fields = {k: v for k, v in rec.items() if k not in ("modelId", "runId")}
            runs.start(model, run_id, startedAt=rec["window"]["end"], window=rec["window"])
            runs.update(model, run_id, **{k: v for k, v in fields.items() if k != "window"})
            put_json(f"s3://{settings.bucket}/runs/{model}/{run_id}/evaluation.json", ev)
            put_json(f"s3://{settings.bucket}/runs/{model}/{run_id}/drift.json", drift)
        last = case["history"][-1]["runId"]
        if case["comparison"]:
            put_json(f"s3://{settings.bucket}/runs/{model}/{last}/comparison.json", case["comparison"])
        request = logic.ReportRequest(model, last, "succeeded")
        out: dict[str, float] = {}
        for mode in ("alone", "after"):  # without, then with the previous run's report (the pipeline's usual case)
            if mode == "after":
                logic.write_report(settings, logic.ReportRequest(model, case["history"][-2]["runId"], "succeeded"))
            times = []
            for _ in range(renders + 1):
                c0 = time.process_time()
                logic.write_report(settings, request)
                times.append(time.process_time() - c0)
            out[mode] = statistics.median(times[1:])
    reset_clients()
    return out


def run_child(cases_path: str, renders: int, ref: str | None, step: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as mpl:
        env = {**os.environ, "MPLCONFIGDIR": mpl}
        if ref:
            env["PYTHONPATH"] = os.pathsep.join([os.path.join(ref, "layers", "plotting"),
                                                 os.path.join(ref, "functions", "report"), env.get("PYTHONPATH", "")])
        out = subprocess.run([sys.executable, "-c", CHILD, cases_path, str(renders), "1" if step else "0"],  # noqa: S603
                             check=False, capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"the measuring interpreter failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh interpreters per renderer")
    parser.add_argument("--renders", type=int, default=5, help="warm renders per case and interpreter")
    parser.add_argument("--ref", help="a reference tree (layers/plotting, functions/report), measured alongside")
    parser.add_argument("--no-step", action="store_true", help="skip the handler step against moto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cases.json")
        with open(path, "w") as fh:
            json.dump(build_cases(), fh)
        results: dict[str, list[dict[str, Any]]] = {"tree": [], "ref": []}
        for _ in range(args.repeat):  # alternate, so both see the same load
            results["tree"].append(run_child(path, args.renders, None, not args.no_step))
            if args.ref:
                results["ref"].append(run_child(path, args.renders, args.ref, not args.no_step))
    print(f"CPU seconds, median of {args.repeat} fresh interpreters; warm = median of {args.renders} renders after "
          f"the first; load average {os.getloadavg()[0]:.2f} at the end")
    head = f"{'':<34}{'this tree':>11}" + (f"{'reference':>11}{'ratio':>8}" if args.ref else "")
    print(head)

    def row(label: str, pick: Any, unit: str = "s") -> None:
        mine = statistics.median(pick(r) for r in results["tree"])
        line = f"{label:<34}{mine:>10.4f}{unit}"
        if args.ref:
            ref = statistics.median(pick(r) for r in results["ref"])
            line += f"{ref:>10.4f}{unit}{mine / ref:>8.3f}"
        print(line)

    row("import driftline_report (cold)", lambda r: r["import"])
    for case in CASES:
        row(f"render {case} (warm)", lambda r, c=case: r["render"][c])
    for case in CASES:
        row(f"render {case} (first)", lambda r, c=case: r["first"][c])
    row("worst case, warm", lambda r: max(r["render"].values()))
    if not args.no_step:
        row("report step, previous report stored", lambda r: r["step"]["after"])
        row("report step, no earlier report", lambda r: r["step"]["alone"])
    for case in CASES:
        mine = statistics.median(r["bytes"][case] for r in results["tree"]) / 1024
        line = f"{'page ' + case:<34}{mine:>9.1f}KiB"
        if args.ref:
            line += f"{statistics.median(r['bytes'][case] for r in results['ref']) / 1024:>9.1f}KiB"
        print(line)


if __name__ == "__main__":
    main()
