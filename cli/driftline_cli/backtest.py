"""``driftline backtest``: a user's labelled history replayed through the real pipeline on the offline stack.

The replay is the scenario machinery of ``make demo`` / ``make scenarios``
(:func:`driftline_offline.scenario.seed_example` and :class:`driftline_offline.scenario.Example`) with the
history as the scenario: the template is deployed into the offline runtime (``Stage=local``) on a simulated
clock starting at the first evaluation window, the user's config is registered through the API function, the
initial champion is trained by a real script-mode ``CreateTrainingJob`` of the user's ``--source-dir`` /
``--entry-point`` on the rows before the training cut-off, the drift baseline is built from that training set by
the drift checker, and an endpoint with Data Capture serves the champion. Then, window by window, the rows land
as SageMaker Data Capture (through ``InvokeEndpoint``, i.e. scored by the model being served — or, while the
initial champion serves and the history has score columns, written with the history's own scores) and as
SageMaker ground truth, and the template's schedule (or a ``Run Requested`` event for windows that are not whole
days) runs the real state machine: evaluation, drift, the retrain policy, training, the challenger comparison
and deployment.

Offline, two settings of the config are replaced (and reported): ``promotion.requireApproval`` is ``false``
(no one answers approvals in a replay; a promotion that would wait counts as approved) and the deployment is
``all_at_once`` without waits (canary steps do not change any decision offline).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .history import History, Window

#: config fields a backtest sets itself (locations in the offline stack's bucket)
LOCATION_FIELDS = ("dataCapture", "groundTruth", "baselineUri", "endpointName")
TRAINING_LOCATIONS = ("sourceUri", "outputUri", "trainingDataUri", "roleArn")
EXECUTION_TIMEOUT = 600.0
#: a window's rows go to the endpoint in at most this many requests (the rows of consecutive hours together)
REQUESTS_PER_WINDOW = 6
#: functions invoked through the Lambda service (state machine tasks) run one at a time in a replay. The
#: pipeline's Assess state runs the evaluator and the drift checker in parallel, and both read the window's
#: capture: on AWS each parses it in its own sandbox (whichever finishes first writes the run's window artifact);
#: in one interpreter two concurrent parses only share the GIL, so one after the other the second loads the
#: first's artifact (:mod:`driftline_common.artifacts`) instead of parsing the capture again. The state machine
#: and the handlers are unchanged; only the emulator's scheduling of their invocations is.
BACKGROUND_SLOTS = 1


class _Replayed:
    """The population of a replay is the history itself: nothing is ever sampled."""

    def sample(self, day: int, n: int, rng: Any) -> tuple[np.ndarray, np.ndarray]:
        raise RuntimeError("a history replay samples nothing: its windows come from the history file")


def history_scenario(history: History, train: slice, cfg: dict[str, Any], *, source_dir: Path, entry_point: str,
                     inference_program: str, windows: int) -> Any:
    """The history as a :class:`driftline_examples.scenarios.Scenario` (model, features, labels, config)."""
    from driftline_examples.scenarios.base import Feature, ModelSpec, Scenario

    @dataclass(frozen=True, eq=False)
    class HistoryScenario(Scenario):
        """A scenario whose champion training set and labels come from the history."""

        replay: Any = None

        def training_set(self, n: int | None = None, *, replicate: int = 0) -> tuple[np.ndarray, np.ndarray]:
            rows = np.arange(train.start, train.stop)
            return rows.reshape(-1, 1).astype(np.float64), rows

        def training_csv(self, X: np.ndarray, y: np.ndarray) -> str:
            h = self.replay
            return "".join(f"{h.labels[i]},{h.features[i]}\n" for i in y.tolist())

        def label_text(self, value: Any) -> str:
            return str(value)

    features = tuple(Feature(f["name"], f.get("type", "numeric")) for f in cfg["features"])
    model = ModelSpec(source_dir, dict((cfg.get("training") or {}).get("hyperparameters") or {}),
                      entry_point=entry_point, inference_program=inference_program)
    labels = tuple(str(v) for v in cfg.get("labels") or ("0", "1"))
    overrides = offline_overrides(cfg, entry_point=entry_point)
    return HistoryScenario(
        name="backtest", description=f"replay of {history.path.name}", features=features, population=_Replayed(),
        model=model, expected=_expectation(), problem_type=cfg["problemType"], labels=labels, config=overrides,
        days=max(2, windows), rows_per_day=1, n_train=max(10, train.stop - train.start), model_id=cfg["modelId"],
        replay=history)


def _expectation() -> Any:
    from driftline_examples.scenarios.base import Expectation

    return Expectation(statement="a replay: the decisions are the result, not judged", max_delay=None)


def offline_overrides(cfg: dict[str, Any], *, entry_point: str) -> dict[str, Any]:
    """The user's config minus the locations the offline stack sets, with the two offline replacements."""
    out = {k: copy.deepcopy(v) for k, v in cfg.items() if k not in LOCATION_FIELDS}
    training = {k: v for k, v in (out.get("training") or {}).items() if k not in TRAINING_LOCATIONS}
    training["entryPoint"] = entry_point
    out["training"] = training
    out["promotion"] = {**(out.get("promotion") or {}), "requireApproval": False}
    out["deployment"] = {"strategy": "all_at_once", "waitMinutes": 0, "terminationWaitMinutes": 0,
                         "variantName": "AllTraffic"}
    return out


# ------------------------------------------------------------------------------------------------ the replay
@dataclass
class WindowResult:
    entry: dict[str, Any]
    day: Any  # driftline_offline.scenario.DayResult
    serving: int


@dataclass
class Replay:
    """What one replay produced."""

    windows: list[dict[str, Any]]
    summary: dict[str, Any]
    report_days: list[dict[str, Any]]
    report_details: dict[str, Any]
    config: dict[str, Any]
    seconds: float
    setup_seconds: float
    failures: list[str] = field(default_factory=list)


def _replay_example(base: Any, history: History, length: timedelta) -> Any:
    """The seeded :class:`Example` as a replay: windows of ``length``, rows from the history."""
    from driftline_examples import traffic
    from driftline_offline.scenario import CSV, Example

    class ReplayExample(Example):
        def day_start(self, d: int) -> datetime:
            return self.origin + d * length

        def send_window(self, w: Window, *, historic_scores: bool) -> int:
            ids: list[str] = []
            rows = range(w.rows.start, w.rows.stop)
            parts = hour_parts(history.times, w.rows)
            if historic_scores and history.scores is not None:
                # one capture file per hour, as Data Capture writes them (traffic.capture_files, without
                # re-parsing every record's time: the rows of an hour are known)
                prefix = self.config["dataCapture"]["s3Uri"].removeprefix(f"s3://{self.bucket}/")
                prefix = prefix.removesuffix(f"/{self.endpoint_name}")
                if parts:
                    self.stack.runtime.clock.set(_dt(float(history.times[w.rows.stop - 1])))
                for part in parts:
                    records = [{
                        "captureData": {
                            "endpointInput": {"observedContentType": CSV, "mode": "INPUT",
                                              "data": history.features[i], "encoding": "CSV"},
                            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                               "data": history.scores[i], "encoding": "CSV"}},
                        "eventMetadata": {"eventId": str(uuid.uuid5(uuid.NAMESPACE_URL, history.ids[i])),
                                          "inferenceId": history.ids[i],
                                          "inferenceTime": _iso(float(history.times[i]))},
                        "eventVersion": "0"} for i in part.tolist()]
                    first = _dt(float(np.floor(history.times[part[0]])))
                    key = traffic.capture_key(prefix, self.endpoint_name, "AllTraffic", first)
                    self.put(f"s3://{self.bucket}/{key}", traffic.to_jsonl(records), "application/jsonl")
                ids = [history.ids[i] for i in rows]
            else:
                # at most REQUESTS_PER_WINDOW multi-row requests (consecutive hours together), each sent at its
                # first row's time: as make demo sends a day (6 requests), each captured at its own time
                runtime = self.stack.client("sagemaker-runtime")
                clock = self.stack.runtime.clock
                for part in request_parts(parts):
                    clock.set(_dt(float(history.times[part[0]])))
                    batch = f"w{w.index:05d}-{int(history.times[part[0]])}"
                    body = "\n".join(history.features[i] for i in part.tolist()) + "\n"
                    runtime.invoke_endpoint(EndpointName=self.endpoint_name, Body=body.encode(), ContentType=CSV,
                                            Accept=CSV, InferenceId=batch)
                    ids.extend(f"{batch}#{k}" for k in range(part.size))
            self.labels[w.index] = (ids, [history.labels[i] for i in rows])
            return len(ids)

        def land_labels(self, w: Window) -> None:
            if self.labels.get(w.index, ([], []))[0]:
                when = max(self.stack.runtime.clock.now(), w.end - timedelta(seconds=30))
                self.write_ground_truth(w.index, when=when)

    ex = ReplayExample(base.stack, base.config, scenario=base.scenario, rows_per_day=1, origin=base.origin)
    ex.champion, ex.baseline = base.champion, base.baseline
    return ex


def hour_parts(times: np.ndarray, rows: slice) -> list[np.ndarray]:
    """The row indices of ``rows`` (sorted by time) split where the UTC hour changes; no empty part."""
    hours = (times[rows] // 3600).astype(np.int64)
    return [p for p in np.split(np.arange(rows.start, rows.stop), np.flatnonzero(np.diff(hours)) + 1) if p.size]


def request_parts(parts: list[np.ndarray], most: int = REQUESTS_PER_WINDOW) -> list[np.ndarray]:
    """Consecutive hour parts joined into at most ``most`` requests of about as many hours each."""
    if not parts:
        return []
    groups = np.array_split(np.arange(len(parts)), min(len(parts), most))
    return [np.concatenate([parts[j] for j in g.tolist()]) for g in groups if g.size]


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def _iso(t: float) -> str:
    return _dt(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finite(values: dict[str, Any] | None) -> dict[str, float]:
    out = {}
    for k, v in (values or {}).items():
        if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v):
            out[k] = round(float(v), 6)
    return out


def window_entry(w: Window, r: Any, serving: int) -> dict[str, Any]:
    """One element of ``backtest.json``'s ``windows``."""
    out, run = r.result or {}, r.run or {}
    drift = out.get("drift") or run.get("drift") or {}
    decision = out.get("decision") or run.get("decision") or {}
    deployment = out.get("deployment") or run.get("deployment") or {}
    comparison = run.get("comparison") or out.get("comparison")
    entry: dict[str, Any] = {
        "start": w.start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": w.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": w.rows.stop - w.rows.start, "modelVersion": f"v{serving}",
        "metrics": _finite(out.get("metrics") or run.get("metrics")),
        "breaches": [b.get("metric") for b in run.get("breaches") or out.get("breaches") or [] if isinstance(b, dict)],
        "drift": {"detected": bool(drift.get("detected")), "features": list(drift.get("driftedFeatures") or [])},
        "decision": {"retrain": bool(decision.get("retrain")), "reasons": list(decision.get("reasons") or []),
                     "evidence": dict(decision.get("evidence") or {})},
        "deployed": (f"v{deployment.get('version')}" if deployment.get("status") == "InService" else None),
        "status": r.status,
        "executionSeconds": round(r.seconds, 3),
        "executionCpuSeconds": round(r.cpu_seconds, 3),
    }
    if comparison:
        entry["comparison"] = {k: comparison.get(k) for k in (
            "remedy", "metric", "champion", "challenger", "delta", "sampleSize", "promote", "reasons")
            if k in comparison}
    if r.error:
        entry["error"] = r.error
    return entry


def summarize(windows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "windows": len(windows),
        "retrains": sum(w["decision"]["retrain"] for w in windows),
        "windowsBelowThreshold": sum(1 for w in windows if w["breaches"]),
        "promotions": sum(1 for w in windows if (w.get("comparison") or {}).get("promote")),
        "deployments": sum(1 for w in windows if w["deployed"]),
        "driftWindows": sum(1 for w in windows if w["drift"]["detected"]),
        "failedWindows": sum(1 for w in windows if w["status"] != "SUCCEEDED"),
    }


def replay(history: History, train: slice, wins: list[Window], cfg: dict[str, Any], *, length: timedelta,
           source_dir: Path, entry_point: str, inference_program: str,
           progress: Callable[[int, dict[str, Any]], None] | None = None) -> Replay:
    """Deploy a fresh offline stack, seed the champion on ``train`` and replay every window of ``wins``."""
    from driftline_common.aws import reset_clients
    from driftline_offline import OfflineStack
    from driftline_offline.scenario import TEMPLATE, seed_example

    scenario = history_scenario(history, train, cfg, source_dir=source_dir, entry_point=entry_point,
                                inference_program=inference_program, windows=len(wins))
    origin = wins[0].start
    t0 = time.perf_counter()
    reset_clients()  # cached clients belong to a previous stack's mock
    results: list[WindowResult] = []
    failures: list[str] = []
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local"}, clock=origin,
                              background_slots=BACKGROUND_SLOTS) as stack:
        base = seed_example(stack, scenario=scenario, rows_per_day=1, n_train=scenario.n_train, origin=origin,
                            day0=False)
        ex = _replay_example(base, history, length)
        setup = time.perf_counter() - t0
        registered = dict(ex.config)
        models = ex.models()
        for w in wins:
            serving = int((models.get_state(ex.model_id).get("champion") or {}).get("version") or 1)
            t_land = time.perf_counter()
            if w.rows.stop > w.rows.start:
                ex.send_window(w, historic_scores=serving == 1)
                ex.land_labels(w)
            t_send = time.perf_counter()
            r = ex.run_day(w.index, timeout=EXECUTION_TIMEOUT)
            entry = window_entry(w, r, serving)
            entry["landSeconds"] = round(t_send - t_land, 3)
            results.append(WindowResult(entry, r, serving))
            if r.error:
                failures.append(f"window {entry['start']}: {r.status}: {r.error}")
            if progress:
                progress(w.index, entry)
        report_days, details = _report_parts(ex, results)
    reset_clients()
    windows = [r.entry for r in results]
    return Replay(windows, summarize(windows), report_days, details, registered, time.perf_counter() - t0, setup,
                  failures)


def _report_parts(ex: Any, results: list[WindowResult]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The renderer's day entries and details, built exactly as ``make demo`` builds them."""
    from driftline_offline.demo import day_entry, scenario_details

    days = [day_entry(r.day, r.serving) for r in results]
    for d, r in zip(days, results, strict=True):
        d["metrics"] = dict(r.entry["metrics"])  # every metric of the problem type, regression ones included
    try:
        details = scenario_details(ex, [r.day for r in results], days)
    except Exception as exc:  # noqa: BLE001 - the report's charts are illustrations; backtest.json has the numbers
        details = {"thresholds": {t["metric"]: t.get("min", t.get("max")) for t in ex.config["thresholds"]},
                   "error": f"{type(exc).__name__}: {exc}"}
    from driftline_examples.demo_models import split_matrices

    details["labels"] = list(ex.config.get("labels") or [])
    split_matrices(details)  # k×k matrices of a multiclass model apart from the binary ones
    if ex.config["problemType"] == "regression":
        details["regression"] = {k: [d["metrics"].get(k) for d in days] for k in ("mse", "rmse")}
    return days, json.loads(json.dumps(details, default=str))
