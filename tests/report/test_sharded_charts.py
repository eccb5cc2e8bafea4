"""A sharded (Distributed Map) run's report has its charts: the merged evaluation gets ROC / PR curves, reliability
bins, residual histogram and predicted vs actual from the shards' mergeable pieces, close to (reliability: equal
to) the one-shot evaluation of the same rows."""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow
from driftline_common.s3io import sanitize
from metric_evaluator.evaluate import evaluate_window
from metric_evaluator.problem import MAX_CURVE_POINTS
from metric_evaluator.shards import merge_shards, shard_states
from sklearn.metrics import auc, roc_auc_score

from tests.report import _docs as d
from tests.report.test_render import report_of, svg_texts


def _part(w: LabelledWindow, sl: slice) -> LabelledWindow:
    return LabelledWindow(ids=w.ids[sl], y_true=w.y_true[sl], scores=w.scores[sl], predicted=w.predicted[sl],
                          features={}, bad_capture=Counter(), bad_ground_truth=Counter(), unmatched=0, unlabelled=0)


def _sharded(kind: str, n: int = 6000, parts: int = 3) -> tuple[dict[str, Any], dict[str, Any], LabelledWindow]:
    body = d.config(kind)
    cfg = parse_config(copy.deepcopy(body), model_id=body["modelId"])
    w = d.window(kind, n=n, seed=7)
    cuts = np.linspace(0, n, parts + 1).astype(int)
    if kind == "regression":  # shards with different ranges: the merge must re-bin, not add bins blindly
        order = np.argsort(w.y_true)
        w = LabelledWindow(ids=w.ids[order], y_true=w.y_true[order], scores=w.scores[order],
                           predicted=w.predicted[order], features={}, bad_capture=Counter(),
                           bad_ground_truth=Counter(), unmatched=0, unlabelled=0)
    shards = [sanitize(shard_states(cfg, _part(w, slice(a, b)), labels_in_window=n))
              for a, b in itertools.pairwise(cuts)]
    merged = merge_shards(cfg, shards)
    merged.update(modelId=body["modelId"], problemType=kind,
                  window={"start": "2026-11-15T00:00:00Z", "end": "2026-11-16T00:00:00Z"})
    one = evaluate_window(cfg, w)
    return sanitize(merged), sanitize(one), w


def test_binary_sharded_run_gets_curves_and_exact_reliability_bins() -> None:
    merged, one, w = _sharded("binary")
    det = merged["details"]
    y = w.y_true.astype(int)
    roc = det["rocCurve"]
    assert 2 <= len(roc["fpr"]) <= MAX_CURVE_POINTS
    assert auc(roc["fpr"], roc["tpr"]) == pytest.approx(roc_auc_score(y, w.scores), abs=0.005)
    assert roc["fpr"][0] == 0.0
    assert roc["tpr"][-1] == 1.0
    pr = det["prCurve"]
    assert pr["recall"][0] == pytest.approx(1.0)  # sklearn's order: recall decreasing
    assert pr["precision"][0] == pytest.approx(y.mean())
    for key in ("count", "meanPredicted", "fractionPositive"):
        np.testing.assert_allclose(np.asarray(det["calibration"][key], dtype=float),
                                   np.asarray(one["details"]["calibration"][key], dtype=float), rtol=1e-12)
    assert det["decisionThreshold"] == 0.5
    rep, page = report_of("binary", evaluation=merged)
    assert "roc curve" in page.svgs
    assert "precision recall curve" in page.svgs
    assert "reliability curve" in page.svgs
    assert "operating point (threshold 0.5)" in svg_texts(page.svgs["roc curve"])
    assert not any("calibration" in m or "no scores" in m for m in rep["missing"])


def test_regression_sharded_run_gets_histograms_close_to_the_one_shot_ones() -> None:
    merged, one, w = _sharded("regression")
    det = merged["details"]
    n = len(w.y_true)
    hist = det["residualHistogram"]
    assert len(hist["counts"]) == 30
    assert sum(hist["counts"]) == n
    ref, _ = np.histogram(w.y_true - w.scores, bins=np.asarray(hist["edges"]))
    assert np.abs(np.asarray(hist["counts"]) - ref).sum() / n < 0.02  # re-binning error (0.6 % here)
    pva = det["predictedVsActual"]
    assert np.asarray(pva["counts"]).shape == (30, 30)
    assert sum(map(sum, pva["counts"])) == n
    edges = np.asarray(pva["edges"])
    ref2, _, _ = np.histogram2d(w.y_true, w.scores, bins=[edges, edges])
    assert np.abs(np.asarray(pva["counts"]) - ref2).sum() / n < 0.1  # 2-D: 5 % here
    assert hist["edges"][0] == pytest.approx(min(one["details"]["residualHistogram"]["edges"]))
    rep, page = report_of("regression", evaluation=merged)
    assert "residual histogram" in page.svgs
    assert "predicted vs actual" in page.svgs
    assert "Sharded run (3 shards)" in page.page_text
    assert not any("residual histogram" in m for m in rep["missing"])
