"""Multiclass recalibration: per-class score offsets (a prior correction) fitted on earlier labelled windows,
judged against the champion under the same paired test, applied at evaluation."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow
from metric_evaluator.compare import champion_class_offsets, compare_models
from metric_evaluator.evaluate import evaluate_window
from metric_evaluator.problem import apply_class_offsets
from retrain_launcher import policy as p
from retrain_launcher.recalibration import fit_class_offsets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from tests.conftest import ROOT

BASE = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
MU = np.array([[0.0, 0.0, 0.0, 0.0], [1.2, 0.8, 0.0, 0.3], [0.0, 1.0, 1.2, -0.3]])
BEFORE, AFTER = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.3, 0.5])


def multiclass_config() -> Any:
    cfg = {k: v for k, v in BASE.items() if k != "positiveLabel"}
    return parse_config({**cfg, "problemType": "multiclass", "labels": ["a", "b", "c"],
                         "thresholds": [{"metric": "roc_auc", "min": 0.7}, {"metric": "accuracy", "min": 0.65}]})


def sample(n: int, prior: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.choice(3, size=n, p=prior)
    return MU[y] + rng.normal(0, 1, (n, 4)), y


@pytest.fixture(scope="module")
def shifted() -> dict[str, Any]:
    """A model trained before a label-prior shift (P(x|y) unchanged), a previous and a current window after."""
    rng = np.random.default_rng(0)
    model = LogisticRegression(max_iter=1000).fit(*sample(20000, BEFORE, rng))
    Xp, yp = sample(3000, AFTER, rng)
    Xc, yc = sample(3000, AFTER, rng)
    return {"model": model, "prev": (yp, model.predict_proba(Xp)), "cur": (yc, model.predict_proba(Xc)),
            "retrained": LogisticRegression(max_iter=1000).fit(Xp, yp).predict_proba(Xc)}


def test_fitted_offsets_recover_the_prior_correction(shifted: dict[str, Any]) -> None:
    y, s = shifted["prev"]
    fit = fit_class_offsets(y, s)
    assert fit is not None
    # Saerens et al.: b_k = log(pi'_k / pi_k) - log(pi'_0 / pi_0) = [0, log 3, log 15]
    expected = np.log(AFTER / BEFORE) - np.log(AFTER[0] / BEFORE[0])
    assert np.asarray(fit["classOffsets"]) == pytest.approx(expected, abs=0.2)
    assert fit["fitted"]["accuracy"] > fit["previous"]["accuracy"] + 0.1
    # too few rows of a class: no fit
    assert fit_class_offsets(np.r_[np.zeros(200, int), np.ones(5, int), np.full(200, 2)], np.full((405, 3), 1 / 3)) \
        is None


def test_apply_class_offsets() -> None:
    s = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    out = apply_class_offsets(s, [0.0, 1.0, 0.0])
    assert out.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert out[0] == pytest.approx(s[0] * [1, np.e, 1] / (s[0] * [1, np.e, 1]).sum())
    assert np.argmax(out, axis=1).tolist() == [1, 2]
    assert apply_class_offsets(s, None) is s
    assert apply_class_offsets(s, [0.0, 1.0]) is s  # wrong number of classes: unchanged
    assert champion_class_offsets({"champion": {"classOffsets": [0, 1.5, 2]}}) == [0.0, 1.5, 2.0]
    assert champion_class_offsets({"champion": {"decisionThreshold": 0.3}}) is None


def test_the_recalibrated_champion_competes_and_wins_as_the_cheaper_remedy(shifted: dict[str, Any]) -> None:
    cfg = multiclass_config()
    assert p.wants_recalibration("multiclass", True, ["accuracy"])
    assert not p.wants_recalibration("multiclass", True, ["roc_auc", "accuracy"])
    fit = fit_class_offsets(*shifted["prev"])
    assert fit is not None
    y, s = shifted["cur"]
    labels = np.array(cfg.labels)
    doc = compare_models(cfg, labels[y], s, shifted["retrained"], breached=["accuracy"],
                         recalibration_offsets=fit["classOffsets"])
    recal = doc["candidates"]["recalibrated"]
    assert recal["verdicts"][0] == "IMPROVED:accuracy"
    adjusted = apply_class_offsets(s, fit["classOffsets"])
    assert recal["tests"]["accuracy"]["candidate"] == pytest.approx(accuracy_score(y, adjusted.argmax(axis=1)))
    assert recal["tests"]["accuracy"]["champion"] == pytest.approx(accuracy_score(y, s.argmax(axis=1)))
    assert doc["remedy"] == "recalibration"
    assert doc["reasons"][-1] == "RECALIBRATED"
    assert doc["classOffsets"] == fit["classOffsets"]
    assert "decisionThreshold" not in doc
    # a champion already carrying these offsets: the same candidate no longer improves anything
    again = compare_models(cfg, labels[y], s, shifted["retrained"], breached=["accuracy"],
                           champion_offsets=fit["classOffsets"], recalibration_offsets=fit["classOffsets"])
    assert again["candidates"]["recalibrated"]["tests"]["accuracy"]["delta"] == 0


def test_evaluation_applies_the_champions_offsets(shifted: dict[str, Any]) -> None:
    cfg = multiclass_config()
    y, s = shifted["cur"]
    labels = np.array(cfg.labels)
    window = LabelledWindow(ids=np.asarray([f"id-{i}" for i in range(y.size)]), y_true=labels[y], scores=s,
                            predicted=np.full(y.size, ""), features={}, bad_capture=Counter(),
                            bad_ground_truth=Counter(), unmatched=0, unlabelled=0)
    offsets = [0.0, 1.1, 2.7]
    plain = evaluate_window(cfg, window)
    adjusted = evaluate_window(cfg, window, class_offsets=offsets)
    assert plain["metrics"]["accuracy"] == pytest.approx(accuracy_score(y, s.argmax(axis=1)))
    assert adjusted["metrics"]["accuracy"] == pytest.approx(
        accuracy_score(y, apply_class_offsets(s, offsets).argmax(axis=1)))
    assert "accuracy" in [b["metric"] for b in plain["breaches"]]
    assert adjusted["breaches"] == []


def test_decide_fits_the_multiclass_candidate_from_dataset_csvs(shifted: dict[str, Any]) -> None:
    from retrain_launcher.decide import _fit_multiclass

    cfg = multiclass_config()
    y, s = shifted["prev"]
    lines = ["inference_id,label,score_0,score_1,score_2,predicted_label"]
    lines += [f"r{i},{'abc'[c]}," + ",".join(repr(float(v)) for v in row) + ","
              for i, (c, row) in enumerate(zip(y, s, strict=True))]
    lines.append("odd,zzz,0.3,0.3,0.4,")  # a label outside the config's: left out
    out = _fit_multiclass(cfg, {"classOffsets": [0.0, 0.5, 0.5]}, ["\n".join(lines)])
    assert out["status"] == "FITTED"
    assert out["rows"] == y.size
    assert out["classOffsets"] == pytest.approx(fit_class_offsets(y, s)["classOffsets"])  # type: ignore[index]
    assert out["previousClassOffsets"] == [0.0, 0.5, 0.5]
    assert _fit_multiclass(cfg, {}, ["\n".join(lines[:50])])["status"] == "NOT_FITTED"
