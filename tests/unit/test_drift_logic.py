"""Drift decisions: baseline building, per-feature tests, correction, effect-size floor, dataset share."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from drift_checker.baseline import build_baseline
from drift_checker.logic import categorical_drift, check_features, correct, numeric_drift
from driftline_common.config import parse_config
from driftline_common.errors import DataFormatError
from scipy import stats

from tests.conftest import ROOT

BASE = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
CATS = np.array(["a", "b", "c", "d"])


def _cfg(**drift: Any):
    return parse_config({**BASE, "drift": {**BASE["drift"], **drift}})


def _sample(n: int, rng: np.random.Generator, shift: float = 0.0, cat_p: Any = None) -> dict[str, np.ndarray]:
    out = {f"f{i}": rng.normal(shift if i < 2 else 0.0, 1.0, n) for i in range(5)}
    out["f5"] = rng.choice(CATS, n, p=cat_p if cat_p is not None else [0.4, 0.3, 0.2, 0.1])
    return out


def _csv(data: dict[str, np.ndarray], *, header: bool, label: bool = True) -> str:
    names = [f"f{i}" for i in range(6)]
    n = data["f0"].size
    lines = []
    if header:
        lines.append(",".join(["label", *names] if label else names))
    for r in range(n):
        cells = [repr(float(data[f][r])) if f != "f5" else str(data[f][r]) for f in names]
        lines.append(",".join(["1", *cells] if label else cells))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return build_baseline(_cfg(), [_csv(_sample(20_000, rng), header=False)], source="mem")


def test_baseline_contents(baseline: dict[str, Any]) -> None:
    assert baseline["layout"] == "label_first"
    assert baseline["sampleSize"] == 20_000
    f0 = baseline["features"]["f0"]
    assert len(f0["edges"]) == 9
    assert sum(f0["counts"]) == 20_000
    assert len(f0["sample"]) == 10_000
    assert f0["mean"] == pytest.approx(0.0, abs=0.05)
    cat = baseline["features"]["f5"]
    assert cat["type"] == "categorical"
    assert sum(cat["counts"].values()) == 20_000
    assert set(cat["counts"]) == set(CATS)


def test_baseline_header_layout_and_bad_rows() -> None:
    rng = np.random.default_rng(1)
    text = _csv(_sample(100, rng), header=True) + "1,2,3\n1,x,1,1,1,1,a\n"
    doc = build_baseline(_cfg(), [text])
    assert doc["layout"] == "header"
    assert doc["sampleSize"] == 100
    assert doc["badRecords"] == {"non_numeric": 1, "wrong_feature_count": 1}
    with pytest.raises(DataFormatError, match="columns"):
        build_baseline(_cfg(), ["a,b\n1,2\n"])


def test_no_drift_on_same_distribution_big_sample(baseline: dict[str, Any]) -> None:
    rng = np.random.default_rng(2)
    res = check_features(_cfg(), baseline, _sample(20_000, rng))
    assert res["detected"] is False
    assert res["driftedFeatures"] == []
    assert res["testedFeatures"] == 6


def test_drift_on_shifted_data(baseline: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    res = check_features(_cfg(), baseline, _sample(5_000, rng, shift=1.0, cat_p=[0.1, 0.2, 0.3, 0.4]))
    assert res["driftedFeatures"] == ["f0", "f1", "f5"]
    assert res["share"] == pytest.approx(3 / 6)
    assert res["detected"] is True
    f0 = res["features"]["f0"]
    assert f0["effectSize"] >= 0.2
    assert f0["pvalueAdjusted"] < 0.01


def test_small_but_significant_shift_is_not_drift(baseline: dict[str, Any]) -> None:
    """With many rows a tiny shift is significant; the PSI floor keeps it from counting as drift."""
    rng = np.random.default_rng(4)
    res = check_features(_cfg(), baseline, _sample(50_000, rng, shift=0.08))
    f0 = res["features"]["f0"]
    assert f0["significant"] is True
    assert f0["largeEffect"] is False
    assert f0["drifted"] is False


def test_numeric_test_matches_scipy(baseline: dict[str, Any]) -> None:
    rng = np.random.default_rng(5)
    cur = rng.normal(0.3, 1.0, 400)
    res = numeric_drift(baseline["features"]["f0"], cur)
    ref = stats.ks_2samp(np.asarray(baseline["features"]["f0"]["sample"]), cur, method=res["method"])
    assert res["statistic"] == pytest.approx(ref.statistic)
    assert res["pvalue"] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)


def test_categorical_test_matches_scipy_and_linf() -> None:
    ref = {"type": "categorical", "counts": {"a": 400, "b": 300, "c": 200, "d": 100}}
    cur = np.array(["a"] * 100 + ["b"] * 100 + ["c"] * 100 + ["d"] * 100 + ["e"] * 2)
    res = categorical_drift(ref, cur)
    # "e" has expected counts below 5 in both rows: pooled into one column with nothing else rare
    table = np.array([[400, 300, 200, 100, 0], [100, 100, 100, 100, 2]], dtype=float)
    assert res["pooledCategories"] == 1
    chi = stats.chi2_contingency(table[:, :5], correction=False)
    assert res["pvalue"] == pytest.approx(chi.pvalue, rel=1e-6, abs=1e-300)
    p = table[0] / table[0].sum()
    q = table[1] / table[1].sum()
    assert res["effectSize"] == pytest.approx(np.max(np.abs(p - q)))
    assert res["unseenCategories"] == ["e"]


def test_corrections() -> None:
    p = [0.01, 0.04, 0.03, 0.5]
    assert correct(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 1.0])
    assert correct(p, "benjamini-hochberg") == pytest.approx([0.04, 0.0533333, 0.0533333, 0.5], rel=1e-5)
    assert correct(p, "none") == p


def test_too_few_rows_are_not_tested(baseline: dict[str, Any]) -> None:
    rng = np.random.default_rng(6)
    res = check_features(_cfg(), baseline, _sample(10, rng, shift=3.0))
    assert res["testedFeatures"] == 0
    assert res["status"] == "insufficient_data"
    assert res["detected"] is False
