"""The run report for binary, multiclass and regression runs: every listed element is in the page (parsed, not
looked at), the numbers behind the charts agree with scikit-learn, and bad input still gets a page saying what
is missing."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from driftline_report import build_report, render_html
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

from tests.report import _docs as d

SVG_NS = "{http://www.w3.org/2000/svg}"


class _Page(HTMLParser):
    """The page's tags, its text outside SVGs, and every inline ``<svg>`` as its own XML document."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self._depth = 0
        self.feed(html)
        self.svgs = {}
        for m in re.finditer(r"<svg\b.*?</svg>", html, flags=re.S):
            root = ET.fromstring(m.group(0))  # noqa: S314 - our own output; each chart is well-formed XML
            self.svgs[root.get("data-chart") or f"svg{len(self.svgs)}"] = root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            assert not k.startswith("on"), f"event handler attribute {k} (no JavaScript)"
            if k in ("href", "src", "xlink:href") and v and not v.startswith(("#", "data:")):
                raise AssertionError(f"external reference {k}={v!r} (the page must work without network)")
        self._depth += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        self._depth -= tag == "svg"

    def handle_data(self, data: str) -> None:
        if not self._depth:
            self.text.append(data)

    @property
    def page_text(self) -> str:
        return " ".join(self.text)


def svg_texts(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


def svg_titles(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}title")]


def history(kind: str, n: int = 6) -> list[dict[str, Any]]:
    runs = [d.run_record(kind, s) for s in range(n)]
    runs[2].update(decision={"retrain": True}, training={"jobName": "job-2"})
    runs[3].update(comparison={"promote": True}, deployment={"status": "InService"})
    runs[4].update(status="FAILED", reason="TrainingFailed: the job failed")
    runs[1].update(deployment={"status": "RolledBack", "rolledBack": True})
    return runs


def report_of(kind: str, *, evaluation: dict[str, Any] | None = None, comparison: dict[str, Any] | None = None,
              runs: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], _Page]:
    runs = runs if runs is not None else history(kind)
    ev = evaluation if evaluation is not None else runs[-1]["evaluation"]
    rep = build_report(run=runs[-1], config={"version": 7, "config": d.config(kind)}, evaluation=ev,
                       drift=d.drift(kind, len(runs) - 1), comparison=comparison, history=runs,
                       drift_history=[(r["runId"], d.drift(kind, i)) for i, r in enumerate(runs)],
                       generated_at="2026-12-03T12:00:00Z")
    html = render_html(rep)
    assert html.startswith("<!DOCTYPE html>")
    page = _Page(html)
    assert "script" not in page.tags
    return rep, page


def check_history(rep: dict[str, Any], page: _Page, metrics: list[str]) -> None:
    thresholds = rep["history"]["thresholds"]
    for metric in metrics:
        svg = page.svgs[f"history {metric}"]
        text = svg_texts(svg)
        assert f"{metric} over the last 6 runs" in text
        for kind in ("retrain", "promotion", "deployment", "rollback", "failed run"):
            assert kind in text, (metric, kind)  # event rows are labelled, not only coloured
        for side, value in (thresholds.get(metric) or {}).items():
            assert f"{side} {value:g}" in text
    # the per-window intervals are drawn where the evaluator stored them
    assert any(r["intervals"] for r in rep["history"]["runs"])


def test_binary_report_has_every_element_and_sklearn_numbers() -> None:
    rep, page = report_of("binary")
    check_history(rep, page, ["roc_auc", "accuracy"])
    assert "interval" in svg_texts(page.svgs["history roc_auc"])
    cm = svg_texts(page.svgs["Confusion matrix counts and row-normalised"])
    assert "(counts)" in cm
    assert "(row-normalised)" in cm
    # per class and averages agree with scikit-learn on the same rows
    w = d.window("binary", seed=5)
    y, yp = w.y_true.astype(int), w.predicted.astype(int)
    p, r, f, s = precision_recall_fscore_support(y, yp, labels=[0, 1], zero_division=np.nan)
    rows = rep["classification"]["perClass"]["rows"]
    assert [row["support"] for row in rows] == s.tolist()
    np.testing.assert_allclose([row["precision"] for row in rows], p)
    np.testing.assert_allclose([row["f1"] for row in rows], f)
    for avg in ("macro", "weighted"):
        ref = precision_recall_fscore_support(y, yp, average=avg, zero_division=np.nan)
        got = rep["classification"]["perClass"]["averages"][avg]
        np.testing.assert_allclose([got["precision"], got["recall"], got["f1"]], ref[:3])
    assert "macro average" in page.page_text
    assert "weighted average" in page.page_text
    roc = svg_texts(page.svgs["roc curve"])
    assert f"AUC {roc_auc_score(y, w.scores):.3f}" in roc
    assert "operating point (threshold 0.5)" in roc
    pr = svg_texts(page.svgs["precision recall curve"])
    prevalence = y.mean()
    assert re.search(r"model \(AP 0\.\d{3}\)", pr)
    assert f"prevalence baseline ({prevalence:.3f})" in pr
    assert "operating point" in pr
    op = rep["classification"]["operatingPoint"]
    assert op["recall"] == pytest.approx(r[1])
    assert op["precision"] == pytest.approx(p[1])
    # reliability bins agree with scikit-learn's (uniform bins, empty ones dropped)
    cal = rep["classification"]["calibration"]
    frac, mean = calibration_curve(y, w.scores, n_bins=10, strategy="uniform")
    got = [(fp, mp) for fp, mp, c in zip(cal["fractionPositive"], cal["meanPredicted"], cal["count"], strict=True)
           if c]
    np.testing.assert_allclose(np.array(got), np.column_stack([frac, mean]), atol=1e-12)
    assert "reliability curve" in page.svgs
    check_drift_and_data(rep, page, classification=True)


def test_multiclass_report_has_per_class_matrices_and_one_vs_rest_curves() -> None:
    rep, page = report_of("multiclass")
    check_history(rep, page, ["accuracy", "f1"])
    cm = svg_texts(page.svgs["Confusion matrix counts and row-normalised"])
    for label in ("cat", "dog", "bird"):
        assert label in cm
    assert len(rep["classification"]["perClass"]["rows"]) == 3
    w = d.window("multiclass", seed=5)
    roc = svg_texts(page.svgs["roc curve"])
    for k, label in enumerate(("cat", "dog", "bird")):
        auc = roc_auc_score(w.y_true == label, w.scores[:, k])
        assert f"{label} vs rest (AUC {auc:.3f})" in roc
    got = rep["classification"]["perClass"]["averages"]["weighted"]["f1"]
    assert got == pytest.approx(precision_recall_fscore_support(w.y_true, w.predicted, average="weighted")[2])
    check_drift_and_data(rep, page, classification=True)


def test_regression_report_has_error_timelines_residuals_and_binned_scatter() -> None:
    rep, page = report_of("regression")
    check_history(rep, page, ["rmse", "r2", "mse", "mae"])
    assert "Residual histogram" in svg_texts(page.svgs["residual histogram"])
    pva = rep["regression"]["predictedVsActual"]
    assert sum(map(sum, pva["counts"])) == rep["data"]["sampleSize"]  # every row binned, none drawn one by one
    assert len(pva["counts"]) <= 30
    assert "predicted = actual" in svg_texts(page.svgs["predicted vs actual"])
    w = d.window("regression", seed=5)
    hist = rep["regression"]["residualHistogram"]
    ref, edges = np.histogram(w.y_true - w.scores, bins=30)
    assert hist["counts"] == ref.tolist()
    assert np.allclose(hist["edges"], edges)
    check_drift_and_data(rep, page, classification=False)


def check_drift_and_data(rep: dict[str, Any], page: _Page, *, classification: bool) -> None:
    psi, linf = page.svgs["drift PSI (numeric features)"], page.svgs["drift L∞ distance (categorical features)"]
    for svg, stat in ((psi, "psi"), (linf, "linf")):
        s = rep["drift"]["statistics"][stat]
        text = svg_texts(svg)
        # fixed absolute scale of its own, with the floor on the colour bar
        assert f"fixed scale 0–{s['scaleMax']:g}" in text
        assert f"floor {s['floor']:g}" in text
        cells = [c for cs in s["features"].values() for c in cs if c is not None]
        drifted = sum(c["drifted"] for c in cells)
        assert drifted > 0
        assert text.count("×") == drifted + 1  # one per drifted cell, plus the title's legend
        titles = svg_titles(svg)
        assert len(titles) == len(cells)
        assert all("p = " in t and "adjusted p = " in t for t in titles)
        assert sum("DRIFTED" in t for t in titles) == drifted
    assert s["scaleMax"] == 1.0
    assert rep["drift"]["statistics"]["psi"]["scaleMax"] == 0.5
    text = page.page_text
    for item in ("sample size", "bad records", "config version", "Thresholds in force", "Policy in force",
                 "generated 2026-12-03T12:00:00Z"):
        assert item in text, item
    bad = svg_texts(page.svgs["Bad records by reason"])
    assert "capture · not_json" in bad
    assert "groundTruth · unknown_label" in bad
    assert ("Class balance (labelled rows)" in page.svgs) is classification


def test_a_run_without_labels_says_what_is_missing() -> None:
    ev = d.evaluation("binary", seed=5, labelled=False)
    assert ev["status"] == "insufficient_data"
    runs = history("binary")
    runs[-1] = {**runs[-1], "metrics": {}, "evaluation": ev}
    rep, page = report_of("binary", evaluation=ev, runs=runs)
    assert any("no labelled rows" in m for m in rep["missing"])
    assert not any("no scores were captured" in m for m in rep["missing"])  # one reason, the right one
    assert "Not shown, and why" in page.page_text
    assert "no labelled rows" in page.page_text
    assert not any(k.startswith("Confusion") or k == "roc curve" for k in page.svgs)  # no empty axes


def test_one_class_only_says_the_curves_are_undefined() -> None:
    ev = d.evaluation("binary", seed=5, one_class=True)
    assert math.isnan(ev["metrics"]["roc_auc"]) if ev["metrics"]["roc_auc"] is not None else True
    rep, page = report_of("binary", evaluation=ev)
    assert any("only one class" in m for m in rep["missing"])
    assert any("metric roc_auc undefined" in m for m in rep["missing"])
    assert "roc curve" not in page.svgs
    assert "precision recall curve" not in page.svgs


def test_nan_metrics_are_named_and_skipped_not_drawn() -> None:
    runs = history("regression")
    for r in runs:
        r["metrics"] = {**r["metrics"], "r2": float("nan")}
        r["evaluation"] = {**r["evaluation"], "metrics": {**r["evaluation"]["metrics"], "r2": None}}
    ev = runs[-1]["evaluation"]
    rep, page = report_of("regression", evaluation=ev, runs=runs)
    assert any("metric r2 is not a finite number" in m for m in rep["missing"])
    assert "history r2" not in page.svgs
    assert "r2: no finite value in the last 6 runs" in page.page_text
    assert "history rmse" in page.svgs


def test_a_failed_run_without_any_document_still_gets_a_page() -> None:
    run = {"modelId": "m", "runId": "r", "status": "FAILED", "reason": "DataFormatError: capture is not JSON"}
    rep = build_report(run=run, config=None, evaluation=None, drift=None, comparison=None, history=[run],
                       drift_history=[], generated_at="2026-12-03T12:00:00Z")
    page = _Page(render_html(rep))
    assert "The run failed" in page.page_text
    assert "DataFormatError: capture is not JSON" in page.page_text
    assert any("stored no evaluation" in m for m in rep["missing"])
    assert any("no drift result" in m for m in rep["missing"])


def test_the_renderer_needs_no_plotting_library_and_is_deterministic() -> None:
    """The report is drawn after every execution: importing the renderer loads neither matplotlib nor numpy (a
    cold start pays nothing for them), and one report renders byte for byte the same twice."""
    import subprocess
    import sys

    code = "import sys, driftline_report; print(sorted({'matplotlib', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    rep, _ = report_of("multiclass")
    assert render_html(rep) == render_html(rep)


def test_a_long_history_labels_every_nth_run_so_labels_do_not_overlap() -> None:
    from driftline_report.charts import history_chart

    points = [{"x": i, "label": f"2026-01-{i % 28 + 1:02d} 06:00", "value": 0.8 + i / 1000} for i in range(100)]
    root = ET.fromstring(history_chart("auc", points, {"min": 0.75}, []))  # noqa: S314 - our own output
    dates = [t for t in ("".join(e.itertext()) for e in root.iter(f"{SVG_NS}text")) if t.startswith("2026-")]
    assert 20 <= len(dates) <= 50
    assert dates[0] == "2026-01-01 06:00"
