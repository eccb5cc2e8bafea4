"""The recalibration's cross-fitted test: a threshold (or multiclass offsets) fitted on the current window and
applied to the earlier windows' rows gives a second paired fold, pooled with the window's own table; its level
is checked by Monte Carlo where fitting is pure noise, its power under a label-prior shift."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.errors import InvalidEvent
from metric_evaluator import stats
from metric_evaluator.compare import compare_models, crossfit_from_decision
from retrain_launcher.recalibration import crossfit_class_offsets, crossfit_threshold, fit_threshold

from tests.conftest import ROOT

BASE = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
MU1 = np.array([1.3, 1.0, 0.8, 0.6])


def cfg(min_improvement: float = 0.01) -> Any:
    return parse_config({**BASE, "promotion": {**BASE["promotion"], "minImprovement": min_improvement},
                         "thresholds": [{"metric": "roc_auc", "min": 0.85}, {"metric": "accuracy", "min": 0.825}]})


def window(n: int, prior: float, rng: np.random.Generator, *, flat: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a champion's scores: the Bayes posterior of class-conditional Gaussians trained at prior 0.2
    (``flat``: a score independent of the label, so every threshold is equally accurate)."""
    y = (rng.random(n) < prior).astype(np.int64)
    if flat:
        return y, rng.random(n)
    z = (rng.normal(size=(n, 4)) + y[:, None] * MU1) @ MU1 - 0.5 * MU1 @ MU1 + np.log(0.2 / 0.8)
    return y, 1 / (1 + np.exp(-z))


def remedies(c: Any, earlier: tuple[np.ndarray, np.ndarray], current: tuple[np.ndarray, np.ndarray]
             ) -> tuple[str | None, str | None, dict[str, Any]]:
    """The remedy chosen without and with the cross-fitted fold (the retrained candidate = the champion)."""
    fit = fit_threshold(c, *earlier, ["accuracy"])
    assert fit is not None
    fold = crossfit_threshold(c, earlier, current, ["accuracy"], 0.5)
    pooled = crossfit_from_decision(c, {"status": "FITTED", "threshold": fit["threshold"], "crossFit": fold})
    y, s = current
    kw: dict[str, Any] = {"breached": ["accuracy"], "champion_threshold": 0.5,
                          "recalibration_threshold": fit["threshold"], "resamples": 100}
    plain = compare_models(c, y.astype(str), s, s, **kw)
    both = compare_models(c, y.astype(str), s, s, **kw, recalibration_crossfit=pooled)
    return plain["remedy"], both["remedy"], both


def test_the_pooled_table_is_the_test_on_both_folds_rows() -> None:
    rng = np.random.default_rng(3)
    y1, a1, b1 = rng.integers(0, 3, (3, 500))
    y2, a2, b2 = rng.integers(0, 3, (3, 700))
    extra = stats.joint_table(y2, a2, b2, 3)
    for metric in ("accuracy", "f1", "recall"):
        kw: dict[str, Any] = {"kind": "multiclass", "confidence": 0.95, "resamples": 200, "seed": 1}
        pooled = stats.paired_test(metric, y=y1, champion=(a1, None), candidate=(b1, None), extra_joint=extra, **kw)
        rows = stats.paired_test(metric, y=np.r_[y1, y2], champion=(np.r_[a1, a2], None),
                                 candidate=(np.r_[b1, b2], None), **kw)
        for key in ("champion", "candidate", "delta", "pvalue", "lower"):
            assert pooled[key] == pytest.approx(rows[key]), (metric, key)
        assert pooled["pooledRows"] == 700
        assert pooled["windowRows"] == 500


def test_level_where_fitting_is_pure_noise_and_power_under_a_prior_shift() -> None:
    """Both folds' candidates are fitted on rows the other fold is tested on, so the folds are dependent; where
    the score is uninformative (every threshold equally accurate, the least favourable null) the pooled test at
    alpha would reject about twice as often as alpha: it is run at alpha / 2, which keeps it at the window-only
    test's level, while under a prior shift it promotes the recalibration more often than the window alone."""
    c = cfg(min_improvement=0.0)
    rng = np.random.default_rng(11)
    draws, promoted = 160, {"plain": 0, "pooled": 0}
    for _ in range(draws):
        plain, both, _ = remedies(c, window(1000, 0.5, rng, flat=True), window(1000, 0.5, rng, flat=True))
        promoted["plain"] += plain == "recalibration"
        promoted["pooled"] += both == "recalibration"
    # alpha 0.05; 160 draws: binomial sd 0.017. This seed: 0.031 (window-only test 0.025); the pooled test at
    # alpha instead of alpha / 2 gives 0.075 here (0.09 on 400 draws of 1,500 rows)
    assert promoted["pooled"] / draws <= 0.06, promoted
    shifted = {"plain": 0, "pooled": 0}
    c = cfg()
    for _ in range(40):
        plain, both, _ = remedies(c, window(1000, 0.4, rng), window(1000, 0.4, rng))
        shifted["plain"] += plain == "recalibration"
        shifted["pooled"] += both == "recalibration"
    assert shifted["pooled"] > shifted["plain"], shifted
    assert shifted["pooled"] >= 0.8 * 40, shifted


def test_a_winning_recalibration_deploys_the_threshold_fitted_on_both_folds() -> None:
    rng = np.random.default_rng(5)
    earlier, current = window(1500, 0.4, rng), window(1500, 0.4, rng)
    fold = crossfit_threshold(cfg(), earlier, current, ["accuracy"], 0.5)
    assert fold is not None
    assert fold["rows"] == 1500
    assert sum(n for _, n in fold["cells"]) == 1500
    both = fit_threshold(cfg(), np.r_[earlier[0], current[0]], np.r_[earlier[1], current[1]], ["accuracy"])
    assert fold["deploy"]["threshold"] == both["threshold"]
    assert fold["threshold"] == fit_threshold(cfg(), *current, ["accuracy"])["threshold"]
    _, remedy, res = remedies(cfg(), earlier, current)
    assert remedy == "recalibration"
    assert res["decisionThreshold"] == both["threshold"]
    test = res["candidates"]["recalibrated"]["tests"]["accuracy"]
    assert test["pooledRows"] == 1500
    assert test["windowRows"] == 1500
    assert res["candidates"]["recalibrated"]["crossFit"]["rows"] == 1500


def test_multiclass_fold_and_malformed_cells() -> None:
    rng = np.random.default_rng(2)
    mu = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.choice(3, size=n, p=[0.2, 0.3, 0.5])
        x = mu[y] + rng.normal(size=(n, 2))
        logit = x @ mu.T - 0.5 * (mu**2).sum(axis=1) + np.log([0.6, 0.3, 0.1])  # trained at 0.6/0.3/0.1
        p = np.exp(logit - logit.max(axis=1, keepdims=True))
        return y, p / p.sum(axis=1, keepdims=True)

    fold = crossfit_class_offsets(sample(1200), sample(1200), None)
    assert fold is not None
    assert fold["rows"] == 1200
    c = parse_config({**{k: v for k, v in BASE.items() if k != "positiveLabel"}, "problemType": "multiclass",
                      "labels": ["a", "b", "c"]})
    parsed = crossfit_from_decision(c, {"status": "FITTED", "crossFit": fold})
    assert parsed is not None
    assert parsed["joint"].shape == (3, 3, 3)
    assert parsed["rows"] == 1200
    assert parsed["deploy"]["classOffsets"] == pytest.approx(fold["deploy"]["classOffsets"])
    # the champion's predictions on the earlier rows (no offsets: arg max) are the table's second axis
    assert np.trace(parsed["joint"].sum(axis=2)) > 0
    for bad in ({"cells": [[27, 1]]}, {"cells": [[0, -1]]}, {"cells": "x"}, {"cells": [[0.5, 1]]}):
        with pytest.raises(InvalidEvent, match="crossFit"):
            crossfit_from_decision(c, {"status": "FITTED", "crossFit": bad})
    assert crossfit_from_decision(c, {"status": "NOT_FITTED", "crossFit": {"cells": "x"}}) is None
