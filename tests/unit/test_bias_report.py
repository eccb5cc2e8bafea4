"""Clarify's bias metrics and analysis.json (driftline_metrics.bias_more, driftline_common.bias_report).

The worked examples compute every metric by hand from the formulas of the Clarify documentation ("Pre-training
bias metrics", "Post-training data and model bias metrics") on a small table whose counts are spelled out.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from driftline_common.bias_report import analysis, breaches
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow
from driftline_metrics.bias_more import conditional_demographic_disparity, post_training_extra

from tests.conftest import ROOT

CONFIG = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())

# 10 rows: group d = the facet value "f" (rows 0-3), group a = the rest (rows 4-9)
SEX = np.array(["f", "f", "f", "f", "m", "m", "m", "m", "m", "m"])
Y = np.array([1, 0, 1, 0, 1, 1, 1, 0, 0, 1], bool)
P = np.array([1, 1, 0, 0, 1, 1, 0, 0, 1, 1], bool)
# group d: TP=1 (r0), FP=1 (r1), FN=1 (r2), TN=1 (r3); group a: TP=3 (r4, r5, r9), FN=1 (r6), TN=1 (r7), FP=1 (r8)


def test_post_training_worked_example() -> None:
    r = post_training_extra(SEX == "f", Y, P)
    # DCAcc = n_a(1)/n'_a(1) - n_d(1)/n'_d(1) = 4/4 - 2/2
    assert r["DCAcc"] == pytest.approx(4 / 4 - 2 / 2)
    # DCR = n_d(0)/n'_d(0) - n_a(0)/n'_a(0) = 2/2 - 2/2
    assert r["DCR"] == pytest.approx(0.0)
    # DAR = TP_a/n'_a(1) - TP_d/n'_d(1) = 3/4 - 1/2
    assert r["DAR"] == pytest.approx(0.25)
    # DRR = TN_d/n'_d(0) - TN_a/n'_a(0) = 1/2 - 1/2
    assert r["DRR"] == pytest.approx(0.0)
    # TE = FN_d/FP_d - FN_a/FP_a = 1/1 - 1/1
    assert r["TE"] == pytest.approx(0.0)
    p2 = P.copy()
    p2[8] = False  # group a: FP 0, TN 2 -> FN_a/FP_a = 1/0 = inf (Clarify's divide), TE = -inf
    assert post_training_extra(SEX == "f", Y, p2)["TE"] == -np.inf


def test_cddl_worked_example() -> None:
    groups = np.array(["x", "x", "y", "y", "x", "x", "x", "y", "y", "y"])
    # group x (rows 0,1,4,5,6): accepted 0,4,5,6 -> d share 1/4; rejected 1 -> d share 1/1; DD_x = 1 - 1/4
    # group y (rows 2,3,7,8,9): accepted 2,9 -> d share 1/2; rejected 3,7,8 -> d share 1/3; DD_y = 1/3 - 1/2
    expected = (5 * (1 - 0.25) + 5 * (1 / 3 - 0.5)) / 10
    assert conditional_demographic_disparity(SEX == "f", Y, groups) == pytest.approx(expected)
    with pytest.raises(ValueError, match="No positive"):
        conditional_demographic_disparity(SEX == "f", np.zeros(10, bool), groups)


def _window(y: Any, scores: Any, features: dict[str, Any], predicted: Any = None) -> LabelledWindow:
    n = len(y)
    return LabelledWindow(ids=np.array([str(i).encode() for i in range(n)]), y_true=np.asarray(y),
                          scores=np.asarray(scores, dtype=float),
                          predicted=np.asarray(predicted if predicted is not None else [""] * n),
                          features=features, bad_capture=Counter(), bad_ground_truth=Counter(), unmatched=0,
                          unlabelled=0)


def _values(doc: dict[str, Any], stage: str, facet: str) -> dict[str, Any]:
    group = doc[stage]["facets"][facet][0]
    return {m["name"]: m.get("value", m.get("error")) for m in group["metrics"]}


def test_binary_analysis_layout_and_values() -> None:
    cfg = parse_config({**CONFIG, "bias": {
        "facets": [{"name": "f5", "values": ["f"]}, {"name": "f0", "threshold": 0.5}],
        "labelValuesOrThreshold": ["1"], "groupVariable": "f1",
        "thresholds": [{"metric": "DPPL", "max": 0.1}, {"metric": "DI", "min": 0.8}]}}, scope=None)
    scores = np.where(P, 0.9, 0.1)
    f0 = np.linspace(0, 1, 10)
    win = _window(np.where(Y, "1", "0"), scores, {"f5": SEX, "f0": f0, "f1": np.array([0.0, 1.0] * 5)})
    doc = analysis(cfg, cfg.bias, win)
    assert doc["version"] == "1.0"
    pre = doc["pre_training_bias_metrics"]
    assert pre["label_value_or_threshold"] == "1"
    assert pre["facets"]["f5"][0]["value_or_threshold"] == "f"
    assert pre["facets"]["f0"][0]["value_or_threshold"] == "(0.5, 1]"
    v = _values(doc, "pre_training_bias_metrics", "f5")
    assert v["CI"] == pytest.approx((6 - 4) / 10)  # (n_a - n_d) / n
    assert v["DPL"] == pytest.approx(4 / 6 - 2 / 4)  # q_a - q_d
    pa, pd = np.array([2 / 6, 4 / 6]), np.array([2 / 4, 2 / 4])
    assert v["KL"] == pytest.approx(float(np.sum(pa * np.log(pa / pd))))
    assert v["TVD"] == pytest.approx(0.5 * float(np.abs(pa - pd).sum()))
    assert v["KS"] == pytest.approx(float(np.abs(pa - pd).max()))
    assert v["LP"] == pytest.approx(float(np.sqrt(((pa - pd) ** 2).sum())))
    assert "CDDL" in v
    post = _values(doc, "post_training_bias_metrics", "f5")
    assert post["DPPL"] == pytest.approx(4 / 6 - 2 / 4)  # q'_a - q'_d
    assert post["DI"] == pytest.approx((2 / 4) / (4 / 6))  # q'_d / q'_a
    assert post["AD"] == pytest.approx(4 / 6 - 2 / 4)
    assert post["RD"] == pytest.approx(3 / 4 - 1 / 2)
    assert post["DAR"] == pytest.approx(0.25)
    assert [m["name"] for m in doc["post_training_bias_metrics"]["facets"]["f5"][0]["metrics"]] == [
        "DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "AD", "TE", "FT"]
    # FT over the numeric features other than the facet (f0, f1), k = 1 (facet a has 6 rows): the d rows 0-3
    # (f0 = 0, 1/9, 2/9, 3/9; f1 = 0, 1, 0, 1) find a-rows 4 (4/9, 0) and 5 (5/9, 1) nearest: row 0 -> 4,
    # row 1 -> 5, row 2 -> 4, row 3 -> 5, all predicted positive; d rows 2, 3 are predicted negative: F+ = 2
    assert post["FT"] == pytest.approx((2 - 0) / 4)
    found = breaches(cfg.bias, doc)
    assert {(b["facet"], b["metric_name"]) for b in found} >= {("f5", "DPPL"), ("f5", "DI")}
    json.dumps(doc, allow_nan=False)  # JSON-safe (undefined metrics carry "error", never NaN/inf)


def test_undefined_metrics_carry_an_error() -> None:
    cfg = parse_config({**CONFIG, "bias": {"facets": [{"name": "f5", "values": ["nobody"]}],
                                           "labelValuesOrThreshold": ["1"]}}, scope=None)
    doc = analysis(cfg, cfg.bias, _window(np.where(Y, "1", "0"), np.where(P, 0.9, 0.1), {"f5": SEX}))
    ci = doc["pre_training_bias_metrics"]["facets"]["f5"][0]["metrics"][0]
    assert "value" not in ci
    assert "empty" in ci["error"]


def test_multiclass_collapses_the_chosen_classes() -> None:
    cfg = parse_config({**CONFIG, "problemType": "multiclass", "labels": ["a", "b", "c"], "positiveLabel": None,
                        "thresholds": [{"metric": "accuracy", "min": 0.5}], "promotion": {"metric": "accuracy"},
                        "bias": {"facets": [{"name": "f5", "values": ["f"]}], "labelValuesOrThreshold": ["c"]}},
                       scope=None)
    y = np.array(["a", "b", "c", "c", "a", "b", "c", "c", "c", "a"])
    scores = np.eye(3)[[0, 1, 2, 0, 0, 1, 2, 2, 1, 0]] * 0.8 + 0.05
    doc = analysis(cfg, cfg.bias, _window(y, scores, {"f5": SEX}))
    v = _values(doc, "pre_training_bias_metrics", "f5")
    assert v["DPL"] == pytest.approx(3 / 6 - 2 / 4)  # "c" against the rest
    # KL over the three classes present in both groups: P_a = (2, 1, 3)/6, P_d = (1, 1, 2)/4
    pa, pd = np.array([2, 1, 3]) / 6, np.array([1, 1, 2]) / 4
    assert v["KL"] == pytest.approx(float(np.sum(pa * np.log(pa / pd))))
    post = _values(doc, "post_training_bias_metrics", "f5")
    # predicted "c": rows 2, 6, 7 -> q'_a = 2/6, q'_d = 1/4
    assert post["DPPL"] == pytest.approx(2 / 6 - 1 / 4)


def test_regression_uses_the_threshold() -> None:
    cfg = parse_config({**CONFIG, "problemType": "regression", "labels": None, "positiveLabel": None,
                        "thresholds": [{"metric": "rmse", "max": 2.0}], "promotion": {"metric": "rmse"},
                        "bias": {"facets": [{"name": "f0", "threshold": 0.0}], "labelValuesOrThreshold": 10.0}},
                       scope=None)
    y = np.array([12.0, 8.0, 15.0, 9.0, 11.0, 3.0])
    pred = np.array([11.0, 11.0, 9.0, 9.0, 12.0, 2.0])
    f0 = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])  # d = f0 > 0: rows 0-2
    doc = analysis(cfg, cfg.bias, _window(y, pred, {"f0": f0}))
    assert doc["pre_training_bias_metrics"]["label_value_or_threshold"] == "(10, inf)"
    v = _values(doc, "pre_training_bias_metrics", "f0")
    assert v["DPL"] == pytest.approx(1 / 3 - 2 / 3)
    post = _values(doc, "post_training_bias_metrics", "f0")
    assert post["DPPL"] == pytest.approx(1 / 3 - 2 / 3)  # predictions > 10: rows 0, 1 (d) and 4 (a)


def test_bias_config_problems_name_the_field() -> None:
    from driftline_common.errors import InvalidModelConfig

    for bias, field in [
        ({"facets": [{"name": "nope", "values": ["x"]}], "labelValuesOrThreshold": ["1"]}, "bias.facets.0.name"),
        ({"facets": [{"name": "f5", "threshold": 1.0}], "labelValuesOrThreshold": ["1"]}, "bias.facets.0.threshold"),
        ({"facets": [{"name": "f0", "values": ["1"]}], "labelValuesOrThreshold": 0.5}, "bias.labelValuesOrThreshold"),
        ({"facets": [{"name": "f0", "values": ["1"]}], "labelValuesOrThreshold": ["7"]}, "bias.labelValuesOrThreshold"),
        ({"facets": [{"name": "f0"}], "labelValuesOrThreshold": ["1"]}, "bias.facets.0"),
        ({"facets": [{"name": "f0", "values": ["1"]}], "labelValuesOrThreshold": ["1"],
          "thresholds": [{"metric": "XYZ", "max": 1}]}, "bias.thresholds.0.metric"),
    ]:
        with pytest.raises(InvalidModelConfig, match=field.replace(".", r"\.")):
            parse_config({**CONFIG, "bias": bias}, scope=None)
    with pytest.raises(InvalidModelConfig, match=r"operational\.0"):
        parse_config({**CONFIG, "operational": [{"metric": "ModelLatency", "stat": "p42", "max": 1}]}, scope=None)
    with pytest.raises(InvalidModelConfig, match=r"dataQuality\.constraintsUri"):
        parse_config({**CONFIG, "dataQuality": {"constraintsUri": "http://x"}}, scope=None)
