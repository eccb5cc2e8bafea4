"""Evaluator logic against scikit-learn on the same joined arrays; the paired promotion rule."""

from __future__ import annotations

import io
import json
import tarfile
from collections import Counter
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow
from metric_evaluator.compare import compare_models, mcnemar, read_challenger_predictions
from metric_evaluator.evaluate import check_thresholds, evaluate_window
from metric_evaluator.problem import downsample
from sklearn import metrics as skm

from tests.conftest import ROOT

BASE = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())


def _cfg(**over: Any):
    data = {**BASE, **over}
    return parse_config(data)


def _window(y_true: np.ndarray, scores: np.ndarray, predicted: np.ndarray | None = None) -> LabelledWindow:
    n = len(y_true)
    return LabelledWindow(
        ids=np.asarray([f"i{i}" for i in range(n)]), y_true=np.asarray(y_true), scores=np.asarray(scores),
        predicted=np.asarray(predicted if predicted is not None else [""] * n, dtype=str), features={},
        bad_capture=Counter(), bad_ground_truth=Counter(),
        unmatched=0, unlabelled=0,
    )


def _binary_data(n: int = 800, seed: int = 0, signal: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(size=n))))
    return y, s


def test_binary_metrics_equal_sklearn() -> None:
    y, s = _binary_data()
    cfg = _cfg()
    doc = evaluate_window(cfg, _window(y.astype(str), s))
    m = doc["metrics"]
    yp = (s > 0.5).astype(int)
    expected = {
        "accuracy": skm.accuracy_score(y, yp), "balanced_accuracy": skm.balanced_accuracy_score(y, yp),
        "precision": skm.precision_score(y, yp), "recall": skm.recall_score(y, yp), "f1": skm.f1_score(y, yp),
        "mcc": skm.matthews_corrcoef(y, yp), "roc_auc": skm.roc_auc_score(y, s),
        "average_precision": skm.average_precision_score(y, s), "log_loss": skm.log_loss(y, s),
        "brier": skm.brier_score_loss(y, s),
    }
    assert set(m) == set(expected)
    for k, v in expected.items():
        assert m[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
    assert doc["details"]["confusionMatrix"]["matrix"] == skm.confusion_matrix(y, yp).tolist()
    assert doc["details"]["confusionMatrix"]["labels"] == ["0", "1"]
    roc = doc["details"]["rocCurve"]
    assert 2 < len(roc["fpr"]) <= 200
    fpr, tpr, _ = skm.roc_curve(y, s)
    assert roc["fpr"][0] == fpr[0]
    assert roc["fpr"][-1] == fpr[-1]
    assert roc["tpr"][-1] == tpr[-1]
    assert len(doc["details"]["prCurve"]["precision"]) <= 200
    assert doc["status"] == "ok"
    assert doc["sampleSize"] == len(y)


def test_binary_positive_label_first_and_labels_only() -> None:
    y, s = _binary_data(200, seed=1)
    cfg = _cfg(labels=["yes", "no"], positiveLabel="yes")
    labels = np.where(y == 1, "yes", "no")
    m = evaluate_window(cfg, _window(labels, s))["metrics"]
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    # no scores captured: label metrics from predicted labels, ranking metrics absent
    pred = np.where(s > 0.5, "yes", "no")
    doc = evaluate_window(cfg, _window(labels, np.full(len(y), np.nan), pred))
    assert doc["metrics"]["f1"] == pytest.approx(skm.f1_score(labels, pred, pos_label="yes"))
    assert "roc_auc" not in doc["metrics"]
    assert "scores" in doc["undefined"]


def test_single_class_window_is_nan_not_crash() -> None:
    y = np.ones(50, dtype=int)
    s = np.linspace(0.1, 0.9, 50)
    doc = evaluate_window(_cfg(), _window(y.astype(str), s))
    assert np.isnan(doc["metrics"]["roc_auc"])
    assert "roc_auc" in doc["undefined"]
    assert doc["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, (s > 0.5).astype(int)))


def test_multiclass_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(3)
    n, k = 600, 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cfg = _cfg(problemType="multiclass", labels=["a", "b", "c"], positiveLabel=None,
               thresholds=[{"metric": "f1", "min": 0.99}])
    labels = np.asarray(["a", "b", "c"])[y]
    doc = evaluate_window(cfg, _window(labels, p))
    m = doc["metrics"]
    yp = p.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, yp))
    assert m["f1"] == pytest.approx(skm.f1_score(y, yp, average="macro"))
    assert m["precision_weighted"] == pytest.approx(skm.precision_score(y, yp, average="weighted"))
    assert m["recall"] == pytest.approx(skm.recall_score(y, yp, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert [{k: b[k] for k in ("metric", "value", "min")} for b in doc["breaches"]] == [
        {"metric": "f1", "value": m["f1"], "min": 0.99}]
    assert doc["breaches"][0]["interval"]["upper"] < 0.99


def _reg_cfg(**over: Any):
    return _cfg(problemType="regression", labels=None, positiveLabel=None,
                thresholds=[{"metric": "rmse", "max": 0.5}, {"metric": "r2", "min": 0.0}],
                promotion={"metric": "mse", "minImprovement": 0.0, "minSamples": 100}, **over)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(10, 2, 500)
    pred = y + rng.normal(0, 1, 500)
    doc = evaluate_window(_reg_cfg(), _window(y, pred))
    m = doc["metrics"]
    assert m["mse"] == pytest.approx(skm.mean_squared_error(y, pred))
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert m["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    assert [b["metric"] for b in doc["breaches"]] == ["rmse"]
    assert doc["breached"] is True


def test_empty_window_is_insufficient_data() -> None:
    doc = evaluate_window(_cfg(), _window(np.asarray([], dtype=str), np.asarray([], dtype=float)))
    assert doc["status"] == "insufficient_data"
    assert doc["sampleSize"] == 0
    assert doc["breached"] is False


def test_thresholds_min_and_max() -> None:
    cfg = _cfg(thresholds=[{"metric": "roc_auc", "min": 0.8}, {"metric": "log_loss", "max": 0.3}])
    assert check_thresholds(cfg, {"roc_auc": 0.85, "log_loss": 0.4}) == [
        {"metric": "log_loss", "value": 0.4, "max": 0.3}]
    assert check_thresholds(cfg, {"roc_auc": float("nan"), "log_loss": 0.2}) == []


def test_downsample_keeps_ends() -> None:
    x = np.arange(1000.0)
    (pts,) = downsample(x)
    assert len(pts) == 200
    assert pts[0] == 0.0
    assert pts[-1] == 999.0


# ---------------------------------------------------------------------------------------------------- compare
def test_clear_winner_is_promoted() -> None:
    y, weak = _binary_data(1000, seed=5, signal=0.4)
    rng = np.random.default_rng(6)
    strong = 1 / (1 + np.exp(-(2.0 * (2 * y - 1) + rng.normal(size=y.size))))
    res = compare_models(_cfg(), y.astype(str), weak, strong)
    assert res["promote"] is True
    assert res["reasons"] == ["IMPROVED:roc_auc", "NON_INFERIOR:accuracy", "CHALLENGER_BETTER"]
    assert res["remedy"] == "retrain"
    assert res["champion"] == pytest.approx(skm.roc_auc_score(y, weak))
    assert res["challenger"] == pytest.approx(skm.roc_auc_score(y, strong))
    assert res["delta"] == pytest.approx(res["challenger"] - res["champion"])
    assert res["pairedTest"]["lower"] > 0
    assert res["pairedTest"]["lower"] <= res["delta"] <= res["pairedTest"]["upper"]
    # the reverse comparison never promotes
    back = compare_models(_cfg(), y.astype(str), strong, weak)
    assert back["promote"] is False
    assert "BELOW_MARGIN:roc_auc" in back["reasons"]


def test_equal_models_are_not_promoted() -> None:
    y, s = _binary_data(1000, seed=7)
    rng = np.random.default_rng(8)
    noisy = np.clip(s + rng.normal(0, 1e-3, s.size), 0, 1)
    res = compare_models(_cfg(promotion={"metric": "roc_auc", "minImprovement": 0.0, "minSamples": 100}),
                         y.astype(str), s, noisy)
    assert res["promote"] is False
    assert "NOT_SIGNIFICANT:roc_auc" in res["reasons"]


def test_too_few_rows_are_not_promoted() -> None:
    y, weak = _binary_data(60, seed=9, signal=0.3)
    rng = np.random.default_rng(10)
    strong = 1 / (1 + np.exp(-(3.0 * (2 * y - 1) + rng.normal(size=y.size))))
    res = compare_models(_cfg(), y.astype(str), weak, strong)  # minSamples 200
    assert res["promote"] is False
    assert "TOO_FEW_SAMPLES" in res["reasons"]
    assert res["delta"] > 0


def test_compare_accuracy_uses_mcnemar_and_regression_squared_errors() -> None:
    y, weak = _binary_data(800, seed=11, signal=0.3)
    rng = np.random.default_rng(12)
    strong = 1 / (1 + np.exp(-(2.0 * (2 * y - 1) + rng.normal(size=y.size))))
    res = compare_models(_cfg(promotion={"metric": "accuracy", "minImprovement": 0.02, "minSamples": 100}),
                         y.astype(str), weak, strong)
    mc = res["pairedTest"]["mcnemar"]
    a, b = (weak > 0.5) == y, (strong > 0.5) == y
    assert mc["challengerOnly"] == int(np.sum(~a & b))
    assert mc["championOnly"] == int(np.sum(a & ~b))
    assert res["promote"] is True

    yr = rng.normal(size=500)
    good = yr + rng.normal(0, 0.3, 500)
    bad = yr + rng.normal(0, 1.0, 500)
    reg = compare_models(_reg_cfg(), yr, bad, good)
    assert reg["promote"] is True
    assert reg["delta"] == pytest.approx(skm.mean_squared_error(yr, bad) - skm.mean_squared_error(yr, good))
    assert reg["pairedTest"]["squaredErrors"]["meanDifference"] == pytest.approx(reg["delta"])


def test_mcnemar_pvalue_matches_exact_binomial() -> None:
    from scipy.stats import binomtest

    y = np.zeros(40, dtype=int)
    champ = np.r_[np.zeros(30), np.ones(10)].astype(int)  # 30 right
    chall = np.r_[np.zeros(25), np.ones(3), np.zeros(12)].astype(int)  # 37 right
    res = mcnemar(y, champ, chall)
    b, c = res["championOnly"], res["challengerOnly"]
    assert res["pvalue"] == pytest.approx(binomtest(min(b, c), b + c, 0.5).pvalue)


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_read_challenger_predictions() -> None:
    ids, scores, bad = read_challenger_predictions(
        _tar({"evaluation_predictions.csv": b"inference_id,score\na,0.1\nb,0.9\nc,oops\n,0.3\n"}))
    assert ids.tolist() == ["a", "b"]
    assert scores.tolist() == [0.1, 0.9]
    assert bad == 2
    with pytest.raises(ValueError, match=r"evaluation_predictions\.csv"):
        read_challenger_predictions(_tar({"model.joblib": b"x"}))
    with pytest.raises(ValueError, match="tar"):
        read_challenger_predictions(b"not a tarball")
