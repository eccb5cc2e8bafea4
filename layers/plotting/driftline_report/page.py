"""The run report page: one self-contained HTML file (inline CSS and SVG, no JavaScript, no network) from
``report.json`` alone (:mod:`driftline_report.document`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from html import escape
from typing import Any

from driftline_report import charts

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1250px;
color:#222;padding:0 1rem}h1{font-size:1.5rem;margin-bottom:.2rem}
h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.25rem;margin-top:2rem}
h3{font-size:1rem;margin:1rem 0 .3rem}.sub{color:#555}
.cards{display:flex;gap:.8rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .9rem}
.card b{display:block;font-size:1.25rem}.charts{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
svg{max-width:100%;height:auto}table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
th,td{border:1px solid #e2e2e2;padding:.2rem .5rem;text-align:left}td.n{text-align:right;
font-variant-numeric:tabular-nums}.missing{background:#fff8e1;border-left:4px solid #f9a825;padding:.5rem 1rem}
.bad{color:#b00020}.ok{color:#1b5e20}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;font-size:.8rem}
"""


def _e(v: Any) -> str:
    return escape(str(v), quote=True)


def _f(v: Any, digits: int = 4) -> str:
    if v is None or isinstance(v, bool):
        return "—"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return _e(v)
    return f"{x:.{digits}g}" if math.isfinite(x) else "—"


def _table(head: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{_f(c)}</td>' if i >= numeric_from and not isinstance(c, str) else f"<td>{_e(c)}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _history(rep: Mapping[str, Any]) -> str:
    hist = rep.get("history") or {}
    runs = hist.get("runs") or []
    if not runs:
        return "<h2>History</h2><p class='missing'>No earlier runs of this model are stored.</p>"
    parts = [f"<h2>History (last {len(runs)} runs)</h2>",
             "<p class='sub'>Run events are in the strip above each chart (▲ retrain, ★ promotion, ◆ deployment, "
             "✖ rollback, ■ failed run). "
             "Bars: the window's one-sided confidence bounds; dashed red: the threshold.</p><div class='charts'>"]
    points_x = list(range(len(runs)))
    events = [{"x": i, "kind": k} for i, r in enumerate(runs) for k in r.get("events") or []]
    for n, metric in enumerate(hist.get("metrics") or []):
        pts = [{"x": i, "label": r["label"] or str(r.get("runId"))[-8:],
                "value": (r.get("metrics") or {}).get(metric),
                "lower": ((r.get("intervals") or {}).get(metric) or {}).get("lower"),
                "upper": ((r.get("intervals") or {}).get(metric) or {}).get("upper")} for i, r in zip(points_x, runs,
                                                                                                       strict=True)]
        if not any(p["value"] is not None for p in pts):
            parts.append(f"<p class='missing'>{_e(metric)}: no finite value in the last {len(runs)} runs.</p>")
            continue
        parts.append(charts.history_chart(metric, pts, (hist.get("thresholds") or {}).get(metric), events, n))
    parts.append("</div>")
    return "".join(parts)


def _classification(rep: Mapping[str, Any]) -> str:
    c = rep.get("classification") or {}
    if not c:
        return ""
    parts = ["<h2>Classification</h2><div class='charts'>"]
    cm = c.get("confusionMatrix")
    if cm:
        parts.append(charts.confusion_chart(cm["labels"], cm["matrix"]))
    parts.append("</div>")
    pc = c.get("perClass")
    if pc:
        parts.append("<h3>Per class</h3><div class='charts'>" + charts.per_class_chart(pc["rows"]) + "<div>")
        rows: list[list[Any]] = [[r["label"], r["precision"], r["recall"], r["f1"], r["support"]] for r in pc["rows"]]
        for avg in ("macro", "weighted"):
            a = pc["averages"].get(avg) or {}
            rows.append([f"{avg} average", a.get("precision"), a.get("recall"), a.get("f1"),
                         sum(r["support"] for r in pc["rows"])])
        parts.append(_table(["class", "precision", "recall", "F1", "support"], rows) + "</div></div>")
    curves = []
    op = c.get("operatingPoint") or {}
    thr = op.get("threshold")
    op_label = f"operating point (threshold {_f(thr, 3)})" if thr is not None else "operating point"
    if c.get("roc") and c["roc"].get("auc") is not None:
        ops = [{"fpr": op["fpr"], "tpr": op["tpr"], "label": op_label}] if op.get("fpr") is not None \
            and op.get("tpr") is not None else []
        curves.append(charts.roc_chart([{"name": "model", **c["roc"]}], ops))
    if c.get("rocCurves"):
        curves.append(charts.roc_chart([{"name": f"{k} vs rest", **v} for k, v in c["rocCurves"].items()]))
    if c.get("pr") and c["pr"].get("ap") is not None:
        ops = [{"precision": op["precision"], "recall": op["recall"], "label": op_label}] \
            if op.get("precision") is not None and op.get("recall") is not None else []
        curves.append(charts.pr_chart([{"name": "model", **c["pr"]}], c.get("prevalence"), ops))
    if c.get("calibration"):
        curves.append(charts.reliability_chart(c["calibration"]))
    if curves:
        parts.append("<h3>Ranking and calibration</h3><div class='charts'>" + "".join(curves) + "</div>")
    return "".join(parts)


def _regression(rep: Mapping[str, Any]) -> str:
    r = rep.get("regression") or {}
    if not r:
        return ""
    note = ""
    if r.get("sharded") and any((r.get(k) or {}).get("approximate") for k in ("residualHistogram",
                                                                            "predictedVsActual")):
        note = (f" Sharded run ({r['sharded']} shards): the histograms are merged from each shard's finer "
                "histograms over its own range, spread over the merged bins by overlap (totals exact, bin "
                "counts approximate).")
    parts = ["<h2>Regression</h2><p class='sub'>MSE / RMSE / MAE / R² over time are in the history above."
             f"{_e(note)}</p><div class='charts'>"]
    if r.get("residualHistogram"):
        parts.append(charts.residual_chart(r["residualHistogram"]))
    if r.get("predictedVsActual"):
        parts.append(charts.predicted_actual_chart(r["predictedVsActual"]))
    return "".join(parts) + "</div>"


def _drift(rep: Mapping[str, Any]) -> str:
    d = rep.get("drift") or {}
    if not d:
        return ""
    verdict = "<b class='bad'>drift detected</b>" if d.get("detected") else "<b class='ok'>no dataset drift</b>"
    sentence = (f"{verdict}: {len(d.get('driftedFeatures') or [])} drifted feature(s) "
                f"({_e(', '.join(d.get('driftedFeatures') or []) or 'none')})")
    if d.get("share") is not None:
        sentence += f", share {_f(d.get('share'), 3)} (dataset drift at ≥ {_f(d.get('datasetShare'), 3)})"
    if d.get("alpha") is not None:
        sentence += (f"; α = {_f(d.get('alpha'), 3)} after {_e(d.get('correction'))} correction. A feature drifts "
                     "when its adjusted p-value is below α AND its effect size reaches the floor. Hover a cell for "
                     "its p-values")
    parts = [f"<h2>Drift</h2><p>{sentence}.</p><div class='charts'>"]
    for eff, s in (d.get("statistics") or {}).items():
        feats = sorted(s["features"])
        parts.append(charts.drift_heatmap(s["name"], s["scaleMax"], s["floor"], feats, d.get("runs") or [],
                                          [s["features"][f] for f in feats]))
        _ = eff
    parts.append("</div>")
    if d.get("untested"):
        parts.append("<p class='sub'>Not tested: " + _e(", ".join(f"{k} ({v})" for k, v in d["untested"].items()))
                     + "</p>")
    return "".join(parts)


def _comparison(rep: Mapping[str, Any]) -> str:
    c = rep.get("comparison")
    if not c:
        return ""
    rows = [[m["metric"], m["champion"], m["challenger"], m["delta"],
             f"[{_f(m['lower'])}, {_f(m['upper'])}]", str(m.get("test") or "—"), m["pvalue"],
             str(m.get("verdict") or "—")] for m in c["metrics"]]
    said = f"<h2>Champion vs challenger</h2><p><b>{_e(c['decision'])}</b>"
    if c.get("reasons"):
        said += f" — reasons: {_e(', '.join(c['reasons']))}"
    if c.get("sampleSize") is not None:
        said += f"; {_e(c['sampleSize'])} paired rows"
    parts = [said + ".</p>"]
    if rows:
        parts.append(_table(["metric", "champion", "challenger", "delta", "interval of the delta", "test",
                             "p-value", "verdict"], rows))
    parts.append(_comparison_charts(c.get("charts") or {}))
    return "".join(parts)


#: what the lineage table shows of a version (``model_registry.version_of``'s ``lineage``), in this order
LINEAGE_ROWS = (
    ("trainingJobName", "training job"), ("tuningJobName", "tuning job"),
    ("trainDataUri", "training data (S3)"), ("window", "data window"), ("codeUri", "code tarball"),
    ("codeSha256", "code tarball SHA-256"), ("imageUri", "image URI"), ("modelArtifacts", "model artifacts"),
    ("hyperparameters", "hyperparameters"), ("promotedBy", "promoted by run"), ("comparisonUri", "comparison"),
    ("evaluationUri", "evaluation"), ("runId", "registered by run"), ("deployedBy", "deployed by run"),
    ("deployedAt", "deployed at"), ("endpointConfigName", "endpoint config"),
)


def _version_table(v: Mapping[str, Any]) -> str:
    lin = v.get("lineage") or {}
    rows: list[list[Any]] = []
    if v.get("version") is not None:
        rows.append(["version", f"{v['version']}" + (f" ({v['status']})" if v.get("status") else "")])
    if v.get("modelPackageArn"):
        rows.append(["model package", str(v["modelPackageArn"])])
    for key, name in LINEAGE_ROWS:
        value = lin.get(key)
        if key == "window" and isinstance(value, Mapping):
            value = f"{value.get('start')} → {value.get('end')}" if value.get("start") or value.get("end") else None
        if value not in (None, ""):
            rows.append([name, str(value)])
    for key, uri in (v.get("documents") or {}).items():
        if key != "comparison" or uri != lin.get("comparisonUri"):
            rows.append([f"{key} document", str(uri)])
    return _table(["", "value"], rows, numeric_from=2)


def _lineage(rep: Mapping[str, Any]) -> str:
    lin = rep.get("lineage") or {}
    if not lin:
        return ""
    parts = ["<h2>Lineage</h2>"]
    for key, title in (("deployed", "The version in service"), ("registered", "The version this run registered")):
        v = lin.get(key)
        if not v:
            continue
        source = "Model Registry" if v.get("source") == "model registry" else "champion record only"
        parts.append(f"<h3>{_e(title)} <span class='sub'>({_e(source)})</span></h3>" + _version_table(v))
    return "".join(parts)


def _model_colour(i: int) -> str:
    return (charts.CHAMPION, charts.CHALLENGER, charts.THIRD_MODEL)[min(i, 2)]


def _comparison_charts(ch: Mapping[str, Any]) -> str:
    """Every compared model's confusion matrix; binary: both ROC and PR curves on one chart each, each model's
    operating point; multiclass: each model's one-vs-rest ROC curves; regression: the residual histograms
    overlaid and each model's predicted vs actual (edges shared by the models)."""
    models: Mapping[str, Mapping[str, Any]] = ch.get("models") or {}
    if not models:
        return ("<p class='missing'>The comparison stored no confusion matrices or curves of the models; "
                "the table above is the paired test on the same rows.</p>")
    names = list(models)
    parts = ["<h3>The models on the same rows</h3>"]
    cms = [charts.confusion_chart(m["confusionMatrix"]["labels"], m["confusionMatrix"]["matrix"],
                                  title=f"{name} confusion matrix")
           for name, m in models.items() if (m.get("confusionMatrix") or {}).get("matrix")]
    if cms:
        parts.append("<div class='charts'>" + "".join(cms) + "</div>")
    curves = []
    roc = [{"name": n, "colour": _model_colour(i), **models[n]["roc"]} for i, n in enumerate(names)
           if (models[n].get("roc") or {}).get("auc") is not None]
    pr = [{"name": n, "colour": _model_colour(i), **models[n]["pr"]} for i, n in enumerate(names)
          if (models[n].get("pr") or {}).get("ap") is not None]
    ops = [(n, _model_colour(i), models[n].get("operatingPoint") or {}) for i, n in enumerate(names)]
    if roc:
        curves.append(charts.roc_chart(roc, [{"fpr": o["fpr"], "tpr": o["tpr"], "colour": col,
                                               "label": f"{n} operating point"} for n, col, o in ops
                                              if o.get("fpr") is not None and o.get("tpr") is not None],
                                       title="ROC: champion vs challenger", label="comparison roc curve"))
    if pr:
        curves.append(charts.pr_chart(pr, ch.get("prevalence"),
                                      [{"precision": o["precision"], "recall": o["recall"], "colour": col,
                                        "label": f"{n} operating point"} for n, col, o in ops
                                       if o.get("precision") is not None and o.get("recall") is not None],
                                      title="Precision–recall: champion vs challenger",
                                      label="comparison precision recall curve"))
    for n in names:
        if models[n].get("rocCurves"):
            curves.append(charts.roc_chart([{"name": f"{k} vs rest", **v} for k, v in models[n]["rocCurves"].items()
                                            if v.get("auc") is not None],
                                           title=f"ROC one-vs-rest: {n}", label=f"comparison roc curve {n}"))
    hists = [(n, _model_colour(i), models[n]["residualHistogram"]) for i, n in enumerate(names)
             if models[n].get("residualHistogram")]
    if hists:
        curves.append(charts.residual_compare_chart(hists))
    for n in names:
        if models[n].get("predictedVsActual"):
            curves.append(charts.predicted_actual_chart(models[n]["predictedVsActual"],
                                                        title=f"Predicted vs actual: {n}",
                                                        label=f"comparison predicted vs actual {n}"))
    if curves:
        parts.append("<div class='charts'>" + "".join(curves) + "</div>")
    return "".join(parts)


def _data(rep: Mapping[str, Any]) -> str:
    d = rep.get("data") or {}
    cfg = rep.get("config") or {}
    cards = [("sample size", d.get("sampleSize")), ("unlabelled", d.get("unlabelled")),
             ("bad records", sum((d.get("badRecords") or {}).values())), ("config version", cfg.get("version"))]
    parts = ["<h2>Data and configuration</h2><div class='cards'>" + "".join(
        f"<div class='card'>{_e(k)}<b>{_e('—' if v is None else v)}</b></div>" for k, v in cards) + "</div>"]
    charts_html = []
    bad = {**(d.get("badRecords") or {})}
    for k, v in (d.get("driftBadRecords") or {}).items():
        bad[f"{k} (capture)"] = v
    if bad:
        charts_html.append(charts.bars_chart("Bad records by reason", list(bad), [float(v) for v in bad.values()]))
    balance = (rep.get("classification") or {}).get("classBalance")
    if balance:
        charts_html.append(charts.bars_chart("Class balance (labelled rows)", list(balance),
                                             [float(v) for v in balance.values()]))
    if charts_html:
        parts.append("<div class='charts'>" + "".join(charts_html) + "</div>")
    else:
        parts.append("<p>No bad records in this window.</p>")
    thr = [[str(t.get("metric")), t.get("min"), t.get("max")] for t in cfg.get("thresholds") or []]
    parts.append("<h3>Thresholds in force</h3>" + _table(["metric", "min", "max"], thr))
    policy = {k: cfg.get(k) for k in ("retrainPolicy", "promotion", "drift", "decisionThreshold") if cfg.get(k)}
    shown = json.dumps(policy, indent=1, sort_keys=True, allow_nan=False)
    parts.append("<h3>Policy in force</h3><pre>" + _e(shown) + "</pre>")
    return "".join(parts)


def _dumps_extra(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str, allow_nan=False)[:20000]


def _extras(rep: Mapping[str, Any]) -> str:
    ex = rep.get("extras") or {}
    if not ex:
        return ""
    return "<h2>Data quality and bias</h2>" + "".join(
        f"<h3>{_e(k)}</h3><pre>{_e(_dumps_extra(v))}</pre>"
        for k, v in ex.items())


def render_sections(rep: Mapping[str, Any], *, heading: bool = True) -> str:
    """The body of one report (no ``<html>`` around it): several can share a page (``make demo``)."""
    title = f"{rep.get('modelId')} — run {rep.get('runId')}"
    window = rep.get("window") or {}
    status = rep.get("status") or "?"
    facts = [f"{_e(rep.get('problemType'))} model"]
    if window.get("start") or window.get("end"):
        facts.append(f"window {_e(window.get('start', '?'))} → {_e(window.get('end', '?'))}")
    facts.append(f"status <b>{_e(status)}</b>")
    if rep.get("outcome"):
        facts.append(f"outcome {_e(rep['outcome'])}")
    if rep.get("generatedAt"):
        facts.append(f"generated {_e(rep['generatedAt'])}")
    head = (f"<h1>{_e(title)}</h1>" if heading else "") + f"<p class='sub'>{' · '.join(facts)}</p>"
    if rep.get("failure"):
        head += f"<p class='missing'><b>The run failed:</b> {_e(rep['failure'])}</p>"
    metrics = rep.get("metrics") or {}
    if metrics:
        head += "<div class='cards'>" + "".join(f"<div class='card'>{_e(k)}<b>{_f(v)}</b></div>"
                                                for k, v in metrics.items()) + "</div>"
    missing = rep.get("missing") or []
    if missing:
        head += ("<div class='missing'><b>Not shown, and why:</b><ul>"
                 + "".join(f"<li>{_e(m)}</li>" for m in missing) + "</ul></div>")
    return head + _history(rep) + _classification(rep) + _regression(rep) + _drift(rep) + _comparison(rep) \
        + _lineage(rep) + _data(rep) + _extras(rep)


def page(title: str, body: str) -> str:
    """A self-contained HTML document around ``body`` (inline CSS, no script, no external resource)."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def render_html(rep: Mapping[str, Any]) -> str:
    """The page of one ``report.json``."""
    return page(f"{rep.get('modelId')} — run {rep.get('runId')}", render_sections(rep))
