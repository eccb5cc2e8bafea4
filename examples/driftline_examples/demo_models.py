"""The regression and multiclass example models in ``make demo``, next to the binary classifier.

Each plays its drift scenario of the scenario library (``regression-drift``: the effect of f1 reverses on day 6;
``multiclass-drift``: f1 and f2 swap the classes they favour on day 6) on a fresh offline stack, exactly as the
demo plays the classifier: the model set up by :func:`driftline_offline.scenario.seed_example` (script-mode
champion training of ``examples/driftline_examples/regressor`` / ``multiclass``, baseline, endpoint with Data
Capture, config registered through the API function), then every simulated day traffic through the endpoint,
ground truth in SageMaker's format, the schedule running the real pipeline.

Beyond the classifier's summary the details carry what these problem types need in the report:

- regression: MSE / RMSE / MAE / R² per day (``regression``), and the residuals (label minus prediction, from
  the dataset CSV the evaluator wrote for the window) of the first and last days and of every retrain day as a
  histogram (``residuals``: ``{label: {"edges", "counts", "mean", "std"}}``) with the predicted-vs-actual
  points binned (``predicted_vs_actual``: ``{label: {"predicted", "actual", "count"}}``);
- multiclass: the k×k confusion matrices (``class_confusion_matrices``), per-class precision / recall / F1 / support
  (``per_class``) and the macro and weighted averages per day (``metrics``: ``precision``, ``recall``, ``f1``
  are macro, ``*_weighted`` support-weighted).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from typing import Any, TextIO

import numpy as np

#: the demo's extra models: the scenario library's regression and multiclass drift scenarios
MODELS = ("regression-drift", "multiclass-drift")
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2")
MULTICLASS_METRICS = ("accuracy", "precision", "recall", "f1", "precision_weighted", "recall_weighted",
                      "f1_weighted", "roc_auc")
RESIDUAL_BINS = 30
PVA_BINS = 20


def _finite_metrics(values: dict[str, Any] | None) -> dict[str, float]:
    out = {}
    for k, v in (values or {}).items():
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v)):
            out[k] = float(v)
    return out


def _dataset(ex: Any, run: dict[str, Any]) -> Any:
    from driftline_common.config import parse_config
    from driftline_common.datasets import parse_dataset_csv, read_dataset_text

    uri = run.get("datasetUri")
    if not uri:
        return None
    return parse_dataset_csv(parse_config(ex.config, scope=None), read_dataset_text(uri, ex.get))


def residual_views(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """A residual histogram and predicted-vs-actual binned by deciles of the prediction (large windows stay small)."""
    residual = y_true - y_pred
    counts, edges = np.histogram(residual, bins=RESIDUAL_BINS)
    hist = {"edges": edges.round(6).tolist(), "counts": counts.tolist(), "mean": float(residual.mean()),
            "std": float(residual.std(ddof=1)) if residual.size > 1 else 0.0}
    order = np.argsort(y_pred, kind="stable")
    parts = [p for p in np.array_split(order, min(PVA_BINS, max(1, y_pred.size))) if p.size]
    pva = {"predicted": [float(y_pred[p].mean()) for p in parts], "actual": [float(y_true[p].mean()) for p in parts],
           "count": [int(p.size) for p in parts]}
    return hist, pva


def per_class(labels: list[str], matrix: list[list[int]]) -> dict[str, dict[str, float | int | None]]:
    """Precision, recall, F1 and support of every class from a confusion matrix (rows: true, columns: predicted)."""
    cm = np.asarray(matrix, dtype=np.float64)
    out: dict[str, dict[str, float | int | None]] = {}
    for k, label in enumerate(labels):
        tp, predicted, actual = cm[k, k], cm[:, k].sum(), cm[k, :].sum()
        precision = tp / predicted if predicted else None
        recall = tp / actual if actual else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision is not None and recall is not None and precision + recall > 0 else None)
        out[str(label)] = {"precision": precision, "recall": recall, "f1": f1, "support": int(actual)}
    return out


def split_matrices(details: dict[str, Any]) -> dict[str, Any]:
    """Move k×k (k > 2) confusion matrices from ``confusion_matrices`` to ``class_confusion_matrices``.

    ``confusion_matrices`` holds the binary ``[[tn, fp], [fn, tp]]`` matrices the report draws;
    ``class_confusion_matrices`` the per-class ones of a multiclass model (``{label: {"labels", "matrix"}}``).
    """
    binary, per_class_matrices = {}, {}
    for label, m in dict(details.get("confusion_matrices") or {}).items():
        if len(m) == 2 and all(len(row) == 2 for row in m):
            binary[label] = m
        else:
            per_class_matrices[label] = {"labels": details.get("labels"), "matrix": m}
    details["confusion_matrices"] = binary
    if per_class_matrices:
        details["class_confusion_matrices"] = per_class_matrices
    return details


def _line(d: dict[str, Any], extra: dict[str, Any], names: tuple[str, ...]) -> str:
    m = d["metrics"]
    values = " ".join(f"{n}={m[n]:.3f}" if n in m else f"{n}=-" for n in names)
    drift = ",".join(d["drift"]["drifted_features"]) if d["drift"]["detected"] else "-"
    decision = ("RETRAIN " if d["decision"]["retrain"] else "keep ") + ",".join(d["decision"]["reasons"])
    return (f"{d['day']:>3} {d['model_version']:>5} {extra['rows']:>5} {values}  drift={drift:<10} "
            f"{decision[:48]:<48} {d['deployed_version'] or '-':>4} {d['execution_status']:<9} "
            f"{extra['execution_seconds']:6.3f}")


def run_model(name: str, *, days: int, rows: int, out: TextIO) -> Any:
    """Deploy a fresh stack and play the scenario ``name`` for ``days`` days: a ``demo.ScenarioRun``."""
    from driftline_common.aws import reset_clients
    from driftline_offline import OfflineStack
    from driftline_offline.demo import ScenarioRun, day_entry, day_extra, scenario_details, scenario_summary
    from driftline_offline.scenario import TEMPLATE, seed_example

    from . import traffic
    from .scenarios import base

    scenario = replace(base.get(name), days=days, rows_per_day=rows)
    names = REGRESSION_METRICS if scenario.problem_type == "regression" else MULTICLASS_METRICS
    reset_clients()
    t0 = time.perf_counter()
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local"}, clock=traffic.ORIGIN) as stack:
        ex = seed_example(stack, scenario=scenario, rows_per_day=rows, n_train=scenario.n_train)
        setup = time.perf_counter() - t0
        print(f"[{name}] set-up {setup:.2f} s: {scenario.problem_type} model {ex.model_id} "
              f"(champion {ex.champion['jobName']}, endpoint {ex.endpoint_name})", file=out, flush=True)
        t1 = time.perf_counter()
        models = ex.models()
        results, entries, extras = [], [], []
        for d in range(days):
            serving = (models.get_state(ex.model_id).get("champion") or {}).get("version")
            if d > 0:
                ex.send_traffic(d)
                ex.write_ground_truth(d)
            r = ex.run_day(d)
            entry = day_entry(r, serving)
            entry["metrics"] = _finite_metrics((r.result or {}).get("metrics") or (r.run or {}).get("metrics"))
            results.append(r)
            entries.append(entry)
            extras.append(day_extra(r))
            print(_line(entry, extras[-1], names), file=out, flush=True)
            if r.error:
                print(f"      run failed: {r.error}", file=out, flush=True)
        days_seconds = time.perf_counter() - t1
        details = scenario_details(ex, results, entries)
        details["labels"] = list(ex.config.get("labels") or [])
        split_matrices(details)
        details.update(_problem_details(ex, scenario.problem_type, results, entries))
        details.update(runs=extras, setup_seconds=round(setup, 3), problem_type=scenario.problem_type,
                       model_id=ex.model_id)
    reset_clients()
    return ScenarioRun(name, scenario_summary(entries), details, setup, days_seconds).record(results, entries)


def _problem_details(ex: Any, problem_type: str, results: list[Any], entries: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    """The regression or multiclass parts of the report's details (see the module docstring)."""
    picked = sorted({0, len(results) - 1} | {i for i, e in enumerate(entries) if e["decision"]["retrain"]})
    if problem_type == "regression":
        residuals, pva = {}, {}
        for i in picked:
            data = _dataset(ex, results[i].run or {})
            if data is None or not data.y_true.size:
                continue
            y = np.asarray(data.y_true, dtype=np.float64)
            p = np.asarray(data.scores, dtype=np.float64).reshape(-1)
            label = f"{entries[i]['model_version']} day {results[i].day}"
            residuals[label], pva[label] = residual_views(y, p)
        return {"regression": {k: [e["metrics"].get(k) for e in entries] for k in REGRESSION_METRICS},
                "residuals": residuals, "predicted_vs_actual": pva}
    classes: dict[str, Any] = {}
    for i in picked:
        uri = (results[i].run or {}).get("evaluationUri")
        if not uri:
            continue
        cm = ((json.loads(ex.get(uri)).get("details") or {}).get("confusionMatrix")) or {}
        if cm.get("matrix"):
            classes[f"{entries[i]['model_version']} day {results[i].day}"] = per_class(cm["labels"], cm["matrix"])
    return {"per_class": classes}
