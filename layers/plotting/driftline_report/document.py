"""``report.json``: the data behind every chart of a run report, built from the documents a run already stored.

Inputs are the run record (RunsTable item), the run's ``evaluation.json`` / ``drift.json`` / ``comparison.json``
(any may be missing), the config in force and the last N run records with their evaluation and drift documents.
Nothing is recomputed from raw rows: per-class precision/recall/F1 come from the confusion matrix, curves and
calibration bins from the evaluation document (see ``metric_evaluator.evaluate.report_details``). Whatever a
chart needs and the documents lack is listed in ``missing`` with the reason, and the page says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

SCHEMA = "driftline.report/1"
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2")
#: fixed absolute colour-scale tops per drift effect statistic (the floor is the config's threshold)
EFFECT_SCALES = {"psi": 0.5, "linf": 1.0}
EFFECT_NAMES = {"psi": "PSI (numeric features)", "linf": "L∞ distance (categorical features)"}


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


def per_class(labels: Sequence[str], matrix: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Precision / recall / F1 / support per class and their macro and weighted averages, from a confusion
    matrix (rows actual, columns predicted) — the same numbers as scikit-learn's ``precision_recall_fscore_support``
    (undefined ratios are ``None``; the averages are over the defined ones)."""
    k = len(labels)
    rows: list[dict[str, Any]] = []
    stats: list[tuple[float | None, float | None, float | None, int]] = []
    for i in range(k):
        tp = float(matrix[i][i])
        pred = float(sum(matrix[r][i] for r in range(k)))
        actual = float(sum(matrix[i]))
        p, r = _div(tp, pred), _div(tp, actual)
        f1 = None if p is None or r is None else (0.0 if p + r == 0 else 2 * p * r / (p + r))
        stats.append((p, r, f1, int(actual)))
        rows.append({"label": str(labels[i]), "precision": p, "recall": r, "f1": f1, "support": int(actual)})
    avgs: dict[str, dict[str, float | None]] = {"macro": {}, "weighted": {}}
    for j, key in enumerate(("precision", "recall", "f1")):
        defined = [(v[j], v[3]) for v in stats if v[j] is not None]
        vals = [float(v) for v, _ in defined if v is not None]
        weight = sum(s for _, s in defined)
        avgs["macro"][key] = sum(vals) / len(vals) if vals else None
        avgs["weighted"][key] = (sum(float(v or 0.0) * s for v, s in defined) / weight) if weight else None
    return {"rows": rows, "averages": avgs}


def bad_by_reason(ev: Mapping[str, Any]) -> dict[str, int]:
    """Bad records as ``{"<source> · <reason>": count}`` (capture / ground truth), plus labels matching no
    prediction; a source counted without reasons appears as ``"<source> · unspecified"``."""
    out: dict[str, int] = {}
    reasons = ev.get("badRecordReasons") or {}
    counts = ev.get("badRecords") or {}
    for source, total in counts.items():
        by = reasons.get(source) if isinstance(reasons.get(source), Mapping) else {}
        for reason, n in (by or {}).items():
            if n:
                out[f"{source} · {reason}"] = int(n)
        rest = int(total or 0) - sum(int(n) for n in (by or {}).values())
        if rest > 0:
            out[f"{source} · {'labels matching no prediction' if source == 'unmatched' else 'unspecified'}"] = rest
    return out


def _events_of(run: Mapping[str, Any]) -> list[str]:
    out = []
    if run.get("status") == "FAILED":
        out.append("failed")
    decision = run.get("decision") or {}
    if decision.get("retrain") or run.get("training") or run.get("trainingJobName"):
        out.append("retrain")
    comparison = run.get("comparison") or {}
    if comparison.get("promote"):
        out.append("promotion")
    deployment = run.get("deployment") or {}
    if deployment:
        rolled = str(deployment.get("status", "")).upper() in ("ROLLED_BACK", "ROLLEDBACK") or \
            deployment.get("rolledBack")
        out.append("rollback" if rolled else "deployment")
    if run.get("outcome") in ("rolled_back", "rollback"):
        out.append("rollback")
    return sorted(set(out))


def _label(run: Mapping[str, Any]) -> str:
    end = str(((run.get("window") or {}).get("end")) or run.get("startedAt") or run.get("runId") or "")
    return end[:16].replace("T", " ")


def build_history(history: Sequence[Mapping[str, Any]], thresholds: Sequence[Mapping[str, Any]],
                  problem_type: str) -> dict[str, Any]:
    """The last runs, oldest first: every metric, its interval and the run's events.

    Each item of ``history`` is a run record, optionally with ``evaluation`` (its evaluation document, for the
    intervals; else the record's own ``intervals``, which the decide step stores) attached by the caller.
    ``evaluated``: whether the evaluation's metrics and intervals were known.
    """
    runs = []
    for r in history:
        ev = r.get("evaluation") or {}
        metrics = {k: _num(v) for k, v in (r.get("metrics") or ev.get("metrics") or {}).items()}
        bounds = ev.get("intervals") or r.get("intervals") or {}
        intervals = {m: {"lower": _num(b.get("lower")), "upper": _num(b.get("upper"))}
                     for m, b in bounds.items() if isinstance(b, Mapping)}
        runs.append({"runId": r.get("runId"), "label": _label(r), "window": r.get("window"),
                     "status": r.get("status"), "outcome": r.get("outcome"), "metrics": metrics,
                     "intervals": intervals, "events": _events_of(r), "sampleSize": r.get("sampleSize"),
                     "evaluated": bool(ev)})
    names = [str(t["metric"]) for t in thresholds if t.get("metric")]
    if problem_type == "regression":
        names += [m for m in REGRESSION_METRICS if m not in names]
    return {"runs": runs, "metrics": list(dict.fromkeys(names)),
            "thresholds": {str(t["metric"]): {k: t.get(k) for k in ("min", "max") if t.get(k) is not None}
                           for t in thresholds if t.get("metric")}}


def build_classification(evaluation: Mapping[str, Any], problem_type: str, missing: list[str]) -> dict[str, Any]:
    details = evaluation.get("details") or {}
    metrics = evaluation.get("metrics") or {}
    out: dict[str, Any] = {}
    cm = details.get("confusionMatrix") or {}
    labels, matrix = [str(x) for x in cm.get("labels") or []], cm.get("matrix")
    if labels and matrix and sum(map(sum, matrix)):
        out["confusionMatrix"] = {"labels": labels, "matrix": matrix}
        out["perClass"] = per_class(labels, matrix)
    else:
        missing.append("confusion matrix: no labelled rows in this window")
    counts = details.get("classCounts")
    if counts and labels and len(counts) == len(labels):
        out["classBalance"] = dict(zip(labels, counts, strict=True))
        present = sum(1 for c in counts if c)
        if present < 2:
            missing.append(f"ROC / precision–recall: only one class ({labels[counts.index(max(counts))]}) has "
                           "labels in this window, the curves are undefined")
    if problem_type == "binary":
        roc, pr = details.get("rocCurve"), details.get("prCurve")
        if roc:
            out["roc"] = {"fpr": roc["fpr"], "tpr": roc["tpr"], "auc": _num(metrics.get("roc_auc"))}
        if pr:
            out["pr"] = {"precision": pr["precision"], "recall": pr["recall"],
                         "ap": _num(metrics.get("average_precision"))}
        if not roc and not any("only one class" in m for m in missing):
            missing.append("ROC / precision–recall: no scores were captured (predicted labels only)")
        if out.get("confusionMatrix") and len(labels) == 2:
            (tn, fp), (fn, tp) = out["confusionMatrix"]["matrix"]
            out["operatingPoint"] = {"threshold": _num(details.get("decisionThreshold")),
                                     "fpr": _div(fp, fp + tn), "tpr": _div(tp, tp + fn),
                                     "precision": _div(tp, tp + fp), "recall": _div(tp, tp + fn)}
            out["prevalence"] = _div(tp + fn, tn + fp + fn + tp)
        if details.get("calibration"):
            out["calibration"] = details["calibration"]
        else:
            missing.append("reliability curve: the evaluation stored no calibration bins "
                           "(no probability scores, or an evaluation written before they were stored)")
    elif problem_type == "multiclass":
        if details.get("rocCurves"):
            out["rocCurves"] = details["rocCurves"]
        else:
            missing.append("one-vs-rest ROC curves: no per-class probabilities stored for this window")
        missing.append("reliability curve: drawn for binary models only (multiclass calibration is per class)")
    return out


def build_regression(evaluation: Mapping[str, Any], missing: list[str]) -> dict[str, Any]:
    details = evaluation.get("details") or {}
    out: dict[str, Any] = {k: details[k] for k in ("residualHistogram", "predictedVsActual") if details.get(k)}
    if out and evaluation.get("sharding"):
        out["sharded"] = int((evaluation.get("sharding") or {}).get("shards") or 0)
    if not out:
        missing.append("residual histogram / predicted vs actual: not stored for this window "
                       "(no finite labelled rows, or an evaluation written before they were stored)")
    return out


def build_drift(drift_docs: Sequence[tuple[str, Mapping[str, Any] | None]], current: Mapping[str, Any] | None,
                missing: list[str]) -> dict[str, Any]:
    """Per statistic: features × runs of effect size, p-values and the drifted flag on a fixed scale."""
    if not current or not current.get("features"):
        missing.append("drift: no drift result for this run")
        return {}
    stats: dict[str, dict[str, Any]] = {}
    runs = [label for label, _ in drift_docs]
    for j, (_, doc) in enumerate(drift_docs):
        for name, f in ((doc or {}).get("features") or {}).items():
            eff = f.get("effect")
            if not eff or f.get("status") != "tested":
                continue
            floor = _num(f.get("effectThreshold")) or 0.0
            s = stats.setdefault(eff, {"name": EFFECT_NAMES.get(eff, eff), "floor": floor, "features": {},
                                       "scaleMax": max(EFFECT_SCALES.get(eff, 1.0), 2 * floor)})
            s["floor"] = floor if j == len(drift_docs) - 1 else s["floor"]
            s["features"].setdefault(name, [None] * len(runs))[j] = {
                "effectSize": _num(f.get("effectSize")), "pvalue": _num(f.get("pvalue")),
                "pvalueAdjusted": _num(f.get("pvalueAdjusted")), "drifted": bool(f.get("drifted")),
                "test": f.get("test")}
    untested = {n: f.get("status") for n, f in (current.get("features") or {}).items() if f.get("status") != "tested"}
    return {"runs": runs, "statistics": stats, "detected": current.get("detected"),
            "driftedFeatures": current.get("driftedFeatures") or [], "share": _num(current.get("share")),
            "datasetShare": _num(current.get("datasetShare")), "alpha": _num(current.get("alpha")),
            "correction": current.get("correction"), "untested": untested}


def build_comparison(comparison: Mapping[str, Any] | None, missing: list[str]) -> dict[str, Any] | None:
    if not comparison:
        return None
    rows = []
    for m, t in (comparison.get("metrics") or {}).items():
        rows.append({"metric": m, "champion": _num(t.get("champion")), "challenger": _num(t.get("candidate")),
                     "delta": _num(t.get("delta")), "lower": _num(t.get("lower")), "upper": _num(t.get("upper")),
                     "test": t.get("method"), "pvalue": _num(t.get("pvalue")), "verdict": t.get("verdict"),
                     "role": t.get("role")})
    promote = bool(comparison.get("promote"))
    remedy = comparison.get("remedy")
    words = (f"Promote the {'recalibrated champion' if remedy == 'recalibration' else 'challenger'}"
             if promote else "Keep the champion")
    raw = comparison.get("charts")
    charts: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    models = {str(k): v for k, v in (charts.get("models") or {}).items() if isinstance(v, Mapping)}
    if not models:
        missing.append("champion vs challenger charts: the comparison stored no per-model confusion matrices or "
                       "curves (a comparison written before they were stored, or no scored rows)")
    return {"promote": promote, "remedy": remedy, "decision": words, "reasons": list(comparison.get("reasons") or []),
            "sampleSize": comparison.get("sampleSize"), "metrics": rows,
            "requireApproval": comparison.get("requireApproval"),
            "charts": {"models": models, "prevalence": _num(charts.get("prevalence"))}}


def build_report(*, run: Mapping[str, Any], config: Mapping[str, Any] | None, evaluation: Mapping[str, Any] | None,
                 drift: Mapping[str, Any] | None, comparison: Mapping[str, Any] | None,
                 history: Sequence[Mapping[str, Any]], drift_history: Sequence[tuple[str, Mapping[str, Any] | None]],
                 generated_at: str, extras: Mapping[str, Any] | None = None,
                 lineage: Mapping[str, Any] | None = None, lineage_gaps: Sequence[str] = ()) -> dict[str, Any]:
    """The whole ``report.json`` (JSON-safe: non-finite numbers are ``None``).

    ``lineage``: the deployed (and this run's registered) model version as the Model Registry describes it
    (``{"deployed"?: version, "registered"?: version}``), ``lineage_gaps``: what of it could not be read."""
    cfg: dict[str, Any] = dict(config or {})
    item: Mapping[str, Any] = cfg["config"] if isinstance(cfg.get("config"), Mapping) else cfg
    problem = str((evaluation or {}).get("problemType") or item.get("problemType") or "unknown")
    missing: list[str] = []
    ev = evaluation or {}
    thresholds = list(ev.get("thresholds") or item.get("thresholds") or [])
    report: dict[str, Any] = {
        "schema": SCHEMA, "modelId": run.get("modelId"), "runId": run.get("runId"), "problemType": problem,
        "generatedAt": generated_at, "status": run.get("status"), "outcome": run.get("outcome"),
        "window": run.get("window") or ev.get("window"), "trigger": run.get("trigger"),
        "failure": run.get("reason") if run.get("status") == "FAILED" else None,
        "config": {"version": cfg.get("version"), "thresholds": thresholds,
                   "retrainPolicy": item.get("retrainPolicy"), "promotion": item.get("promotion"),
                   "drift": item.get("drift"), "decisionThreshold": item.get("decisionThreshold")},
        "metrics": {k: _num(v) for k, v in (ev.get("metrics") or {}).items()},
        "undefined": dict(ev.get("undefined") or {}),
        "data": {"sampleSize": ev.get("sampleSize", run.get("sampleSize")),
                 "unlabelled": ev.get("unlabelled"),
                 "badRecords": bad_by_reason(ev),
                 "driftBadRecords": dict((drift or {}).get("badRecordReasons") or {}),
                 "driftSampleSize": (drift or {}).get("sampleSize")},
        "history": build_history(history, thresholds, problem),
    }
    if not evaluation:
        missing.append("evaluation: this run stored no evaluation (it failed or stopped before evaluating)")
    elif ev.get("status") != "ok":
        missing.append(f"evaluation: status {ev.get('status')!r} — no labelled rows joined in this window "
                       "(ground truth not landed yet, or ids that do not match)")
    for name, why in sorted(report["undefined"].items()):
        missing.append(f"metric {name} undefined: {why}")
    for name, value in (ev.get("metrics") or {}).items():
        if _num(value) is None and name not in report["undefined"]:
            missing.append(f"metric {name} is not a finite number in this window")
    evaluated = bool(evaluation) and ev.get("status") == "ok"  # else the reason is already listed above
    if problem in ("binary", "multiclass") and evaluated:
        report["classification"] = build_classification(ev, problem, missing)
    elif problem == "regression" and evaluated:
        report["regression"] = build_regression(ev, missing)
    report["drift"] = build_drift(drift_history, drift, missing)
    report["comparison"] = build_comparison(comparison, missing)
    if extras:
        report["extras"] = dict(extras)
    if lineage:
        report["lineage"] = dict(lineage)
    missing.extend(lineage_gaps)
    report["missing"] = missing
    return report
