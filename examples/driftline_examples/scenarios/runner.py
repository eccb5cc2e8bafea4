"""Play scenarios end to end on the offline stack and judge every decision against the oracle.

For each scenario a fresh stack is deployed from ``template.yaml`` (``Stage=local``): the scenario's model is
set up by :func:`driftline_offline.scenario.seed_example` (config registered through the API function,
champion trained by a script-mode ``CreateTrainingJob`` of the scenario's ``train.py``, drift baseline, an
endpoint with Data Capture). Every day the traffic goes through ``InvokeEndpoint``, its ground truth lands in
SageMaker's format and the template's daily schedule runs the real state machine and handlers.

Beside that, the runner keeps the truth the pipeline cannot see: before each day it reads which model the
endpoint serves (endpoint → endpoint config → model → ``ModelDataUrl``) and scores it with the scenario's own
``inference.py`` on the day's *oracle* (``scenario.oracle(d)``, 20,000 fresh rows of the true population by
default), with the evaluator's own metric code and the model's stored config (a decision threshold recorded on
the champion applies). On a retrain day it scores the champion and the challenger on the same oracle: a promoted
challenger as what serves after the run (a new model, or the same model under a new decision threshold), a
rejected one from its training job's ``model.tar.gz``. The measures are
:func:`driftline_examples.scenarios.scoring.score` of that timeline.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import sys
import tarfile
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .base import Scenario
from .scoring import Challenger, Day, Score, breaches, score, verdict

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class ScenarioResult:
    """A played scenario: its timeline, its measures, the verdict against its correct decision, timings."""

    scenario: Scenario
    days: list[Day]
    score: Score
    problems: list[str]
    thresholds: list[dict[str, Any]]
    setup_seconds: float
    seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        e = self.scenario.expected
        return {
            "name": self.scenario.name, "description": self.scenario.description,
            "problemType": self.scenario.problem_type, "days": self.scenario.days,
            "rowsPerDay": self.scenario.rows_per_day, "oracleRows": self.scenario.oracle_rows,
            "seed": self.scenario.seed, "thresholds": self.thresholds,
            "expected": {"statement": e.statement, "retrainWindows": [list(w) for w in e.retrain_windows],
                         "toleratedRetrains": e.tolerated_retrains, "maxDelay": e.max_delay,
                         "maxDaysBelow": e.max_days_below},
            "score": self.score.to_json(), "correct": self.correct, "problems": self.problems,
            "timeline": [d.to_json() for d in self.days], "errors": self.errors,
            "setupSeconds": round(self.setup_seconds, 3), "seconds": round(self.seconds, 3),
        }


# ------------------------------------------------------------------------------------------------ the oracle
class Oracle:
    """Scores models (their ``model.tar.gz``) on a day's oracle sample with the scenario's inference script."""

    def __init__(self, scenario: Scenario, fetch: Any) -> None:
        self.scenario = scenario
        self.fetch = fetch  # uri -> bytes
        path = scenario.model.source_dir / scenario.model.inference_program
        spec = importlib.util.spec_from_file_location(f"_scenario_inference_{uuid.uuid4().hex}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the inference script {path}")
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        self._models: dict[str, Any] = {}
        self._samples: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="driftline-oracle-")

    def close(self) -> None:
        self._tmp.cleanup()

    def model(self, uri: str) -> Any:
        if uri not in self._models:
            target = Path(self._tmp.name) / uuid.uuid4().hex
            target.mkdir()
            with tarfile.open(fileobj=io.BytesIO(self.fetch(uri)), mode="r:*") as tar:
                tar.extractall(target, filter="data")
            self._models[uri] = self.module.model_fn(str(target))
        return self._models[uri]

    def sample(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        if d not in self._samples:
            self._samples = {d: self.scenario.oracle(d)}  # one day at a time is all the runner needs
        return self._samples[d]

    def metrics(self, uri: str, d: int, cfg: Any, offsets: list[float] | None = None) -> dict[str, float]:
        """Every metric the evaluator computes, of model ``uri`` on day ``d``'s oracle, under config ``cfg`` (and a
        multiclass champion's recalibration ``offsets``, applied as the evaluator applies them)."""
        from metric_evaluator.evaluate import compute_metrics
        from metric_evaluator.problem import apply_class_offsets, prepare

        X, y = self.sample(d)
        scores = np.asarray(self.module.predict_fn(X, self.model(uri)), dtype=np.float64)
        if cfg.problem_type == "multiclass":
            scores = apply_class_offsets(scores, offsets)
        y_true = np.asarray([self.scenario.label_text(v) for v in y])
        p = prepare(cfg, y_true, scores, np.full(len(y_true), "", dtype=str))
        values = compute_metrics(p)["metrics"]
        return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}


# ------------------------------------------------------------------------------------------------ one scenario
#: seconds one day's execution may take (a retrain, its training job and the comparison) before the scenario
#: fails; generous because a shared machine slows every step
DAY_TIMEOUT = 900.0


def _finite(values: dict[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in (values or {}).items():
        with contextlib.suppress(TypeError, ValueError):
            f = float(v)
            if math.isfinite(f):
                out[k] = round(f, 5)
    return out


def _serving_model(ex: Any) -> str:
    """The ``ModelDataUrl`` of what the endpoint serves now (the truth, not a record of it)."""
    sm = ex.stack.client("sagemaker")
    config_name = sm.describe_endpoint(EndpointName=ex.endpoint_name)["EndpointConfigName"]
    variants = sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    container = sm.describe_model(ModelName=variants[0]["ModelName"])["PrimaryContainer"]
    if "ModelDataUrl" not in container and container.get("ModelPackageName"):  # deployed from a registry version
        package = sm.describe_model_package(ModelPackageName=container["ModelPackageName"])
        container = package["InferenceSpecification"]["Containers"][0]
    return str(container["ModelDataUrl"])


def _config_now(ex: Any) -> Any:
    """The model's stored config; a decision threshold recorded on the champion (if any) applies to it."""
    cfg = ex.models().get_config(ex.model_id)
    champion = ex.models().get_state(ex.model_id).get("champion") or {}
    threshold = champion.get("decisionThreshold")
    if isinstance(threshold, int | float) and 0 < float(threshold) < 1:
        cfg = cfg.model_copy(update={"decision_threshold": float(threshold)})
    return cfg


def _offsets_now(ex: Any) -> list[float] | None:
    """The per-class score offsets recorded on a multiclass champion (a recalibration), if any."""
    from metric_evaluator.compare import champion_class_offsets

    return champion_class_offsets(ex.models().get_state(ex.model_id))


def _version(versions: dict[tuple[str, float, tuple[float, ...]], str], uri: str, threshold: float,
             offsets: list[float] | None = None) -> str:
    """``v1``, ``v2``... per model artifact; ``@<threshold>`` when a model serves under another threshold,
    ``@b[...]`` under per-class score offsets."""
    key = (uri, threshold, tuple(offsets or ()))
    if key not in versions:
        same_model = [v for (u, _, _), v in versions.items() if u == uri]
        number = len({u for u, _, _ in versions}) + (0 if same_model else 1)
        base = same_model[0].split("@")[0] if same_model else f"v{number}"
        rule = f"b[{','.join(f'{b:.2f}' for b in offsets)}]" if offsets else f"{threshold:g}"
        versions[key] = base if not same_model else f"{base}@{rule}"
    return versions[key]


def _challenger(oracle: Oracle, sm: Any, d: int, day: Day, run: dict[str, Any], comparison: dict[str, Any],
                judged: list[str], *, after: tuple[str, Any, list[float] | None] | None, cfg: Any) -> Challenger:
    """The challenger of a retrain day on the day's oracle.

    A promotion is judged by what serves after it (a retrained model, or the same model under a recalibrated
    decision threshold); a rejected challenger by its training job's ``model.tar.gz`` under the current config.
    A rejected challenger without a training job (nothing to score) gets no oracle values.
    """
    training = run.get("training") or {}
    values: dict[str, float] = {}
    if after is not None:
        values = oracle.metrics(after[0], d, after[1], after[2])
    elif training.get("jobName"):
        job = sm.describe_training_job(TrainingJobName=training["jobName"])
        uri = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if uri:
            values = oracle.metrics(uri, d, cfg)
    return Challenger(
        job=str(training.get("jobName") or ""), promoted=bool(comparison.get("promote")), judged=judged,
        champion_oracle={m: day.oracle[m] for m in judged if m in day.oracle},
        challenger_oracle=_finite({m: values.get(m) for m in judged}),
        reasons=list(comparison.get("reasons") or []),
        deployed=(run.get("deployment") or {}).get("status") == "InService",
        candidates=_candidate_verdicts(comparison),
        breached=[str(m) for m in comparison.get("breachedMetrics") or []],
    )


def _candidate_verdicts(comparison: dict[str, Any]) -> dict[str, list[str]]:
    """Every compared candidate's verdicts, read from the comparison document (``resultUri``)."""
    from driftline_common.s3io import get_bytes

    uri = comparison.get("resultUri")
    if not isinstance(uri, str):
        return {}
    try:
        doc = json.loads(get_bytes(uri))
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): [str(v) for v in c.get("verdicts") or []] for k, c in (doc.get("candidates") or {}).items()
            if isinstance(c, dict)}


def play(scenario: Scenario, *, out: TextIO | None = None) -> ScenarioResult:
    """Deploy a fresh stack, set the scenario's model up, simulate its days and score every decision."""
    from driftline_common.aws import reset_clients
    from driftline_offline import OfflineStack
    from driftline_offline.scenario import TEMPLATE, seed_example

    from .. import traffic

    t0 = time.perf_counter()
    days: list[Day] = []
    errors: list[str] = []
    reset_clients()  # the functions' cached clients belong to the previous stack's mock
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local"}, clock=traffic.ORIGIN) as stack:
        ex = seed_example(stack, scenario=scenario, rows_per_day=scenario.rows_per_day, n_train=scenario.n_train)
        setup = time.perf_counter() - t0
        thresholds = [dict(t) for t in ex.config["thresholds"]]
        primary = ex.config["promotion"]["metric"]
        oracle = Oracle(scenario, ex.get)
        sm = stack.client("sagemaker")
        versions: dict[tuple[str, float, tuple[float, ...]], str] = {}
        serving_uri, cfg, offsets = _serving_model(ex), _config_now(ex), _offsets_now(ex)
        try:
            for d in range(scenario.days):
                serving = _version(versions, serving_uri, cfg.decision_threshold, offsets)
                if d:
                    ex.send_traffic(d)
                    ex.write_ground_truth(d)
                r = ex.run_day(d, timeout=DAY_TIMEOUT)
                run, output = r.run or {}, r.result or {}
                decision = output.get("decision") or run.get("decision") or {}
                window_breaches = [b["metric"] for b in run.get("breaches") or [] if isinstance(b, dict)]
                day = Day(
                    day=d, serving=serving, oracle=_finite(oracle.metrics(serving_uri, d, cfg, offsets)),
                    window=_finite(output.get("metrics") or run.get("metrics") or {}),
                    window_breaches=window_breaches,
                    drift=bool((output.get("drift") or run.get("drift") or {}).get("detected")),
                    retrain=bool(decision.get("retrain")), reasons=list(decision.get("reasons") or []),
                    status=r.status, outcome=output.get("outcome") or run.get("outcome"),
                )
                day.oracle_breaches = breaches(day.oracle, thresholds)
                # what serves from now on: a new model, or the same one with a new decision threshold
                after_uri, after_cfg, after_offsets = _serving_model(ex), _config_now(ex), _offsets_now(ex)
                changed = ((after_uri, after_cfg.decision_threshold, after_offsets)
                           != (serving_uri, cfg.decision_threshold, offsets))
                comparison = run.get("comparison") or {}
                if comparison:  # a retrain, or any other remedy the pipeline compared with the champion
                    # judged: what the comparison had to improve (the decision's breached metrics, pooled
                    # breaches included), else the window's breaches, else the primary metric
                    judged = [str(m) for m in comparison.get("breachedMetrics") or []] or window_breaches or [primary]
                    after = (after_uri, after_cfg, after_offsets) if changed else None
                    day.challenger = _challenger(oracle, sm, d, day, run, comparison, judged, after=after, cfg=cfg)
                serving_uri, cfg, offsets = after_uri, after_cfg, after_offsets
                if r.error:
                    errors.append(f"day {d}: {r.status}: {r.error}")
                days.append(day)
                if out is not None:
                    print(format_day(day), file=out, flush=True)
        finally:
            oracle.close()
    e = scenario.expected
    s = score(days, thresholds, retrain_windows=e.retrain_windows)
    problems = verdict(s, retrain_expected=e.retrain_expected, retrain_windows=e.retrain_windows,
                       tolerated_retrains=e.tolerated_retrains, max_delay=e.max_delay,
                       max_days_below=e.max_days_below, last_day=scenario.days - 1)
    reset_clients()
    return ScenarioResult(scenario, days, s, problems, thresholds, setup, time.perf_counter() - t0, errors)


# ------------------------------------------------------------------------------------------------ output
def _fmt_metrics(values: dict[str, float], names: Sequence[str]) -> str:
    return " ".join(f"{n}={values[n]:.3f}" if n in values else f"{n}=-" for n in names)


def format_day(d: Day) -> str:
    names = ["rmse"] if "rmse" in d.oracle else ["roc_auc", "accuracy"]
    line = (f"  day {d.day:>2} {d.serving:>3}  oracle {_fmt_metrics(d.oracle, names):<30} "
            f"window {_fmt_metrics(d.window, names):<30} {'BELOW' if d.oracle_breaches else 'ok':<5} "
            f"{'RETRAIN' if d.retrain else 'keep':<7} {','.join(d.reasons)[:60]}")
    if d.challenger is not None:
        c = d.challenger
        line += (f"\n         challenger {'PROMOTED' if c.promoted else 'rejected'} on oracle "
                 f"{_fmt_metrics(c.challenger_oracle, c.judged)} vs champion "
                 f"{_fmt_metrics(c.champion_oracle, c.judged)} ({','.join(c.reasons)})")
    return line


HEADER = ("| scenario | correct decision | retrains | false retrains | real / all promotions | rejected fixes "
          "| detection delay | days below | verdict |")


def _delays(s: Score) -> str:
    if not s.delays:
        return "-"
    return ", ".join("never" if d is None else str(d) for d in s.delays)


def table(results: Sequence[ScenarioResult]) -> str:
    """The suite's table (Markdown), one row per scenario."""
    lines = [HEADER, "|" + "---|" * 9]
    for r in results:
        s = r.score
        verdict_text = "correct" if r.correct else "WRONG: " + "; ".join(r.problems)
        lines.append(
            f"| {r.scenario.name} | {r.scenario.expected.statement} | {s.retrains} | {s.false_retrains} | "
            f"{s.real_promotions} / {s.promotions} | {s.rejected_fixes} | {_delays(s)} | "
            f"{s.days_below} / {len(r.days)} | {verdict_text} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from . import base

    parser = argparse.ArgumentParser(prog="python -m driftline_examples.scenarios",
                                     description="Decision quality of Driftline on scenarios, end to end offline.")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this scenario (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="seed of every draw (default: each scenario's own)")
    parser.add_argument("--module", action="append", default=[], metavar="MODULE",
                        help="import a module that registers more scenarios (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "scenarios")
    parser.add_argument("--list", action="store_true", help="list the registered scenarios and exit")
    parser.add_argument("--quiet", action="store_true", help="do not print the day-by-day lines")
    args = parser.parse_args(argv)
    for module in args.module:
        base.load_module(module)
    scenarios = base.registered()
    if args.list:
        for name, sc in scenarios.items():
            print(f"{name:<24} {sc.problem_type:<10} {sc.days:>3} days x {sc.rows_per_day:>6} rows  {sc.description}")
        return 0
    names = args.only or list(scenarios)
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; registered: {', '.join(scenarios)}")
    chosen = [scenarios[n] if args.seed is None else replace(scenarios[n], seed=args.seed) for n in names]
    args.out.mkdir(parents=True, exist_ok=True)
    stdout = sys.stdout
    results: list[ScenarioResult] = []
    failures: list[str] = []
    started = time.perf_counter()
    log_path = args.out / "functions.log"
    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sc in chosen:
            print(f"\n=== {sc.name}: {sc.description} ({sc.days} days x {sc.rows_per_day} rows, seed {sc.seed})",
                  file=stdout, flush=True)
            try:
                result = play(sc, out=None if args.quiet else stdout)
            except Exception as exc:  # noqa: BLE001 - report the scenario as failed, play the others
                failures.append(f"{sc.name}: {type(exc).__name__}: {exc}")
                print(f"[{sc.name}] FAILED: {type(exc).__name__}: {exc}", file=stdout, flush=True)
                continue
            results.append(result)
            failures.extend(f"{sc.name} {e}" for e in result.errors)
            print(f"[{sc.name}] {'correct' if result.correct else 'WRONG: ' + '; '.join(result.problems)} "
                  f"({result.seconds:.1f} s)", file=stdout, flush=True)
    total = time.perf_counter() - started
    doc = {"command": "python -m driftline_examples.scenarios " + " ".join(argv if argv is not None else sys.argv[1:]),
           "seconds": round(total, 1), "scenarios": {r.scenario.name: r.to_json() for r in results},
           "failures": failures}
    (args.out / "results.json").write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    print("\n" + table(results), file=stdout)
    print(f"\n{sum(r.correct for r in results)} of {len(results)} scenarios decided correctly; total {total:.0f} s; "
          f"wrote {args.out / 'results.json'} (function logs: {log_path})", file=stdout)
    if failures:
        print("\nFAILED:\n" + "\n".join(f"  {f}" for f in failures), file=stdout)
        return 1
    return 0
