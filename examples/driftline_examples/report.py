"""The ``make demo`` page: each scenario's days drawn by the one run-report renderer (:mod:`driftline_report`).

The demo's summary and details are mapped onto the ``report.json`` layout the ReportFunction writes for every
run (history of runs with thresholds and events, confusion matrices, curves, drift effect sizes), then rendered by
:func:`driftline_report.render_sections`: the charts of ``make demo`` and of a deployed stack are the same code.
Each run the demo executes also gets its own ``runs/<modelId>/<runId>/report.html`` from the pipeline.

``summary`` is the demo's ``build/demo/summary.json``::

    {"scenarios": {"drift": S, "stable": S}}
    S = {"days": [{"day", "model_version", "metrics": {...}, "drift": {"detected", "drifted_features"},
                   "decision": {"retrain", "reasons"}, "deployed_version", "execution_status"}, ...],
         "retrains": int, "deployments": int, "executions": {STATUS: count}}

``details`` (optional) holds, per scenario name: ``thresholds`` ``{metric: value}``, ``confusion_matrices``
``{label: matrix}``, ``curves`` ``{name: {"roc": {"fpr", "tpr"}, "pr": {"precision", "recall"}}}``,
``feature_drift`` ``{feature: [per-day effect size]}``. Missing parts are left out and named on the page.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from driftline_report import page, per_class, render_sections
from driftline_report.document import _num

#: metrics where a threshold is a floor (the others are ceilings)
HIGHER_IS_BETTER = frozenset({"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
                              "average_precision", "mcc", "r2", "precision_weighted", "recall_weighted",
                              "f1_weighted"})


def _area(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Trapezoidal area under a stored curve (the demo's curves carry no AUC of their own)."""
    pts = sorted(zip(x, y, strict=True))
    if len(pts) < 2:
        return None
    return sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in itertools.pairwise(pts))


def _events(day: Mapping[str, Any]) -> list[str]:
    out = []
    if (day.get("decision") or {}).get("retrain"):
        out.append("retrain")
    if day.get("deployed_version"):
        out.append("deployment")
    if day.get("execution_status") not in (None, "SUCCEEDED"):
        out.append("failed")
    return out


def scenario_report(name: str, scenario: Mapping[str, Any], details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``report.json`` layout of one demo scenario (its days are the runs)."""
    det = details or {}
    days = list(scenario["days"])
    thresholds = [{"metric": m, ("min" if m in HIGHER_IS_BETTER else "max"): v}
                  for m, v in (det.get("thresholds") or {}).items()]
    metric_names = [t["metric"] for t in thresholds] or [m for m in ("roc_auc", "accuracy", "rmse")
                                                         if any(m in (d.get("metrics") or {}) for d in days)]
    runs = [{"runId": f"day-{d['day']}", "label": f"day {d['day']}", "metrics": {k: _num(v) for k, v in
                                                                                  (d.get("metrics") or {}).items()},
             "intervals": {}, "events": _events(d), "status": d.get("execution_status")} for d in days]
    missing: list[str] = []
    rep: dict[str, Any] = {
        "modelId": f"demo scenario {name!r}", "runId": f"days 0–{len(days) - 1}", "problemType": "binary",
        "status": f"{scenario.get('retrains', 0)} retrain(s), {scenario.get('deployments', 0)} deployment(s)",
        "history": {"runs": runs, "metrics": metric_names,
                    "thresholds": {t["metric"]: {k: v for k, v in t.items() if k != "metric"} for t in thresholds}},
        "config": {"thresholds": thresholds},
        "data": {},
    }
    matrices = det.get("confusion_matrices") or {}
    if matrices:
        label, matrix = list(matrices.items())[-1]
        labels = [str(i) for i in range(len(matrix))]
        rep["classification"] = {"confusionMatrix": {"labels": labels, "matrix": matrix},
                                 "perClass": per_class(labels, matrix)}
        others = {k: {"labels": labels, "matrix": v} for k, v in list(matrices.items())[:-1]}
        rep["metrics"] = {}
        missing.append(f"the confusion matrix and per-class numbers shown are those of {label!r}")
    else:
        others = {}
        missing.append("confusion matrices: none recorded for this scenario")
    curves = det.get("curves") or {}
    if curves or others:
        roc = {k: {"fpr": c["roc"]["fpr"], "tpr": c["roc"]["tpr"], "auc": _area(c["roc"]["fpr"], c["roc"]["tpr"])}
               for k, c in curves.items() if c.get("roc")}
        pr = {k: {"precision": c["pr"]["precision"], "recall": c["pr"]["recall"],
                  "ap": _area(c["pr"]["recall"], c["pr"]["precision"])} for k, c in curves.items() if c.get("pr")}
        models: dict[str, dict[str, Any]] = {}
        for k, v in others.items():
            models.setdefault(k, {})["confusionMatrix"] = v
        for k, v in roc.items():
            models.setdefault(k, {})["roc"] = v
        for k, v in pr.items():
            models.setdefault(k, {})["pr"] = v
        rep["comparison"] = {"decision": "Curves and matrices of the models the scenario scored", "reasons": [],
                             "sampleSize": None, "metrics": [], "charts": {"models": models, "prevalence": None}}
    drift = det.get("feature_drift") or {}
    if drift:
        features = {}
        for f, values in drift.items():
            features[f] = [None if _num(v) is None else {
                "effectSize": _num(v), "pvalue": None, "pvalueAdjusted": None,
                "drifted": f in ((days[i].get("drift") or {}).get("drifted_features") or [])}
                for i, v in enumerate(values[:len(days)])]
        rep["drift"] = {"runs": [r["label"] for r in runs], "detected": any((d.get("drift") or {}).get("detected")
                                                                            for d in days),
                        "driftedFeatures": sorted({f for d in days for f in (d.get("drift") or {}).get(
                            "drifted_features") or []}),
                        "statistics": {"effect": {"name": "effect size (PSI numeric / L∞ categorical)",
                                                  "scaleMax": 0.5, "floor": 0.2, "features": features}}}
    rep["missing"] = missing
    return rep


def _day_table(days: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("day", "model", "roc_auc", "accuracy", "f1", "drifted features",
                                              "decision", "reasons", "deployed", "status"))
    rows = []
    for d in days:
        m = d.get("metrics") or {}
        cells = [d["day"], d.get("model_version"), *(f"{_num(m.get(k)):.3f}" if _num(m.get(k)) is not None else "—"
                                                      for k in ("roc_auc", "accuracy", "f1")),
                 ", ".join((d.get("drift") or {}).get("drifted_features") or []) or "—",
                 "RETRAIN" if (d.get("decision") or {}).get("retrain") else "keep",
                 ", ".join((d.get("decision") or {}).get("reasons") or []), d.get("deployed_version") or "—",
                 d.get("execution_status")]
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_report(summary: Mapping[str, Any], details: Mapping[str, Any] | None = None, *,
                  title: str = "Driftline demo") -> str:
    """The demo page (self-contained HTML, inline SVG); ``title`` heads it (the CLI's backtest and local report)."""
    scenarios = summary.get("scenarios") if isinstance(summary, Mapping) else None
    if not isinstance(scenarios, Mapping):
        raise ValueError("the demo summary needs a 'scenarios' mapping of name -> {'days': [...], ...}")
    body = [f"<h1>{escape(title)}</h1><p class='sub'>Every chart below is drawn by the run-report renderer the "
            "pipeline's ReportFunction uses (driftline_report).</p>"]
    for name, scenario in scenarios.items():
        body.append(f"<h1>Scenario {escape(str(name))}</h1>")
        body.append(render_sections(scenario_report(str(name), scenario, (details or {}).get(name)), heading=False))
        body.append("<h2>Days</h2>" + _day_table(scenario["days"]))
    return page(title, "".join(body))
