"""Champion vs challenger in the run report: the comparison stores both models' confusion matrices and curves
(computed on the same paired rows, bounded in size, equal to scikit-learn's), and the page draws them next to the
per-metric table and the decision."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.s3io import sanitize
from metric_evaluator.chart_data import MAX_CURVE_POINTS, MULTICLASS_CURVE_BUDGET, comparison_charts
from metric_evaluator.compare import compare_models
from metric_evaluator.problem import prepare
from sklearn.metrics import auc, average_precision_score, confusion_matrix, roc_auc_score

from tests.report import _docs as d
from tests.report.test_render import report_of, svg_texts


def _cfg(kind: str) -> Any:
    body = d.config(kind)
    return parse_config(copy.deepcopy(body), model_id=body["modelId"])


def _challenger(kind: str, w: Any) -> np.ndarray:
    if kind == "binary":
        y = w.y_true.astype(int)
        return np.clip(w.scores + 0.15 * (y - 0.5), 0, 1)
    if kind == "multiclass":
        s = w.scores.copy()
        idx = {"cat": 0, "dog": 1, "bird": 2}
        s[np.arange(len(s)), [idx[v] for v in w.y_true]] += 0.3
        return s / s.sum(axis=1, keepdims=True)
    return w.y_true + 0.6 * (w.scores - w.y_true)


def _compare(kind: str) -> tuple[dict[str, Any], Any, np.ndarray]:
    w = d.window(kind, seed=3)
    chall = _challenger(kind, w)
    breached = {"binary": ["accuracy"], "multiclass": ["accuracy"], "regression": ["rmse"]}[kind]
    doc = compare_models(_cfg(kind), w.y_true, w.scores, chall, breached=breached, resamples=100)
    return sanitize(doc), w, chall


def test_binary_comparison_stores_and_draws_both_matrices_and_curves() -> None:
    doc, w, chall = _compare("binary")
    y = w.y_true.astype(int)
    models = doc["charts"]["models"]
    assert list(models) == ["champion", "challenger"]
    for name, s in (("champion", w.scores), ("challenger", chall)):
        m = models[name]
        assert m["confusionMatrix"]["matrix"] == confusion_matrix(y, (s > 0.5).astype(int)).tolist()
        assert m["roc"]["auc"] == pytest.approx(roc_auc_score(y, s))
        assert m["pr"]["ap"] == pytest.approx(average_precision_score(y, s))
        assert len(m["roc"]["fpr"]) <= MAX_CURVE_POINTS
        assert auc(m["roc"]["fpr"], m["roc"]["tpr"]) == pytest.approx(roc_auc_score(y, s), abs=0.01)
    assert doc["charts"]["prevalence"] == pytest.approx(y.mean())
    rep, page = report_of("binary", comparison=doc)
    c = rep["comparison"]
    assert c["decision"] in page.page_text
    for reason in c["reasons"]:
        assert reason in page.page_text
    for metric in doc["metrics"]:
        assert metric in page.page_text
    assert "interval of the delta" in page.page_text
    for name in ("champion", "challenger"):
        text = svg_texts(page.svgs[f"{name} confusion matrix counts and row-normalised"])
        tn = models[name]["confusionMatrix"]["matrix"][0][0]
        assert f"{tn}" in text
        assert "(row-normalised)" in text
    roc = svg_texts(page.svgs["comparison roc curve"])
    pr = svg_texts(page.svgs["comparison precision recall curve"])
    for name, s in (("champion", w.scores), ("challenger", chall)):
        assert f"{name} (AUC {roc_auc_score(y, s):.3f})" in roc
        assert f"{name} (AP {average_precision_score(y, s):.3f})" in pr
        assert f"{name} operating point" in roc
        assert f"{name} operating point" in pr
    assert f"prevalence baseline ({y.mean():.3f})" in pr
    assert not any("champion vs challenger charts" in m for m in rep["missing"])


def test_multiclass_comparison_draws_both_matrices_and_one_vs_rest_curves() -> None:
    doc, w, chall = _compare("multiclass")
    models = doc["charts"]["models"]
    for name, s in (("champion", w.scores), ("challenger", chall)):
        pred = np.array(["cat", "dog", "bird"])[s.argmax(axis=1)]
        assert models[name]["confusionMatrix"]["matrix"] == confusion_matrix(
            w.y_true, pred, labels=["cat", "dog", "bird"]).tolist()
        for k, label in enumerate(("cat", "dog", "bird")):
            assert models[name]["rocCurves"][label]["auc"] == pytest.approx(roc_auc_score(w.y_true == label, s[:, k]))
    _, page = report_of("multiclass", comparison=doc)
    for name in ("champion", "challenger"):
        assert "bird" in svg_texts(page.svgs[f"{name} confusion matrix counts and row-normalised"])
        text = svg_texts(page.svgs[f"comparison roc curve {name}"])
        auc_dog = models[name]["rocCurves"]["dog"]["auc"]
        assert f"dog vs rest (AUC {auc_dog:.3f})" in text


def test_regression_comparison_draws_residuals_on_shared_edges() -> None:
    doc, w, chall = _compare("regression")
    models = doc["charts"]["models"]
    a, b = models["champion"], models["challenger"]
    assert a["residualHistogram"]["edges"] == b["residualHistogram"]["edges"]
    assert a["predictedVsActual"]["edges"] == b["predictedVsActual"]["edges"]
    for m, s in ((a, w.scores), (b, chall)):
        ref, _ = np.histogram(w.y_true - s, bins=np.asarray(m["residualHistogram"]["edges"]))
        assert m["residualHistogram"]["counts"] == ref.tolist()
        assert sum(map(sum, m["predictedVsActual"]["counts"])) == len(s)
    _, page = report_of("regression", comparison=doc)
    text = svg_texts(page.svgs["comparison residual histogram"])
    assert "champion" in text
    assert "challenger" in text
    for name in ("champion", "challenger"):
        assert "predicted = actual" in svg_texts(page.svgs[f"comparison predicted vs actual {name}"])


def test_chart_data_is_bounded_whatever_the_window_size() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    for kind in ("binary", "multiclass"):
        cfg = _cfg(kind)
        if kind == "binary":
            y = (rng.random(n) < 0.3).astype(int).astype(str)
            s = rng.random(n)
        else:
            y = rng.choice(["cat", "dog", "bird"], n)
            s = rng.dirichlet([1, 1, 1], n)
        blank = np.full(n, "", dtype=str)
        p = prepare(cfg, y, s, blank)
        charts = comparison_charts({"champion": p, "retrained": p})
        size = len(json.dumps(charts))
        points = sum(len(c["fpr"]) for m in charts["models"].values() for c in (m.get("rocCurves") or {}).values())
        assert points <= 2 * MULTICLASS_CURVE_BUDGET
        assert size < 60_000, (kind, size)


def test_an_older_comparison_without_charts_says_so() -> None:
    doc, _, _ = _compare("binary")
    doc.pop("charts")
    rep, page = report_of("binary", comparison=doc)
    assert any("champion vs challenger charts" in m for m in rep["missing"])
    assert "stored no confusion matrices or curves" in page.page_text
    assert "comparison roc curve" not in page.svgs
