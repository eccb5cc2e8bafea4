"""Mergeable data-quality summaries (driftline_common.dq_summary): shards merged equal the one-shot window.

Counts, sums, extremes, completeness, category counts and the violations that follow from them are equal; mean
and standard deviation equal up to rounding; the KLL buckets and the drift distance, which come from the merged
quantile sketch, lie within 2/SHARD_SKETCH of the one-shot values (the bound the module documents).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from driftline_common import data_quality as dq
from driftline_common import dq_summary as dqs
from scipy import stats as st

from tests.conftest import ROOT

KINDS = [("normal", "numeric"), ("lognormal", "numeric"), ("integers", "numeric"), ("cat", "categorical")]


def _window(n: int, seed: int, shift: float = 0.0, missing: tuple[float, ...] = (0.0, 0.05, 0.2, 0.01)
            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Columns with some missing values per feature (the mask marks present values)."""
    rng = np.random.default_rng(seed)
    cols = {"normal": rng.normal(shift, 1.0, n), "lognormal": rng.lognormal(0.0, 1.5, n),
            "integers": rng.poisson(4.0, n).astype(float) - (shift > 0),
            "cat": rng.choice(np.array(["a", "b", "c", "d"]), n, p=[0.4, 0.3, 0.2, 0.1])}
    present = {k: rng.uniform(size=n) > p for k, p in zip(cols, missing, strict=True)}
    return cols, present


def _one_shot(cols: dict[str, np.ndarray], present: dict[str, np.ndarray], idx: np.ndarray, sketch: int | None = None
              ) -> dict[str, dqs.Summary]:
    return {name: dqs.of_values(kind, cols[name][idx][present[name][idx]],
                                missing=int(np.count_nonzero(~present[name][idx])), sketch=sketch)
            for name, kind in KINDS}


@pytest.mark.parametrize("shards", [2, 5])
def test_merged_shards_equal_the_one_shot_window(shards: int) -> None:
    n = 60_000
    cols, present = _window(n, seed=shards)
    everything = np.arange(n)
    one = _one_shot(cols, present, everything)
    parts = [_one_shot(cols, present, idx, sketch=dqs.SHARD_SKETCH) for idx in np.array_split(everything, shards)]
    # through the shard documents' JSON, as the monitor step reads them
    parts = [{k: dqs.from_json(json.loads(json.dumps(dqs.to_json(s)))) for k, s in p.items()} for p in parts]
    merged = {name: dqs.merge([p[name] for p in parts]) for name, _ in KINDS}
    s1, s2 = dq.statistics_of(KINDS, one), dq.statistics_of(KINDS, merged)
    assert s1["dataset"] == s2["dataset"] == {"item_count": n}
    for f1, f2 in zip(s1["features"], s2["features"], strict=True):
        assert f1["inferred_type"] == f2["inferred_type"]
        if "string_statistics" in f1:
            assert f1["string_statistics"] == f2["string_statistics"]
            continue
        a, b = f1["numerical_statistics"], f2["numerical_statistics"]
        assert a["common"] == b["common"]
        assert (a["min"], a["max"]) == (b["min"], b["max"])
        assert b["sum"] == pytest.approx(a["sum"], rel=1e-12)
        assert b["mean"] == pytest.approx(a["mean"], rel=1e-12)
        assert b["std_dev"] == pytest.approx(a["std_dev"], rel=1e-9)
        ka, kb = a["distribution"]["kll"]["buckets"], b["distribution"]["kll"]["buckets"]
        assert [x["lower_bound"] for x in ka] == [x["lower_bound"] for x in kb]
        assert sum(x["count"] for x in kb) == pytest.approx(sum(x["count"] for x in ka))
        bound = 2 * a["common"]["num_present"] / dqs.SHARD_SKETCH
        assert max(abs(x["count"] - y["count"]) for x, y in zip(ka, kb, strict=True)) <= bound
    # one-shot statistics of a window are exact: they agree with numpy on the raw present values
    x = cols["lognormal"][present["lognormal"]]
    a = s1["features"][1]["numerical_statistics"]
    assert a["std_dev"] == pytest.approx(float(np.std(x)))
    assert [b["count"] for b in a["distribution"]["kll"]["buckets"]] == np.histogram(x, bins=10)[0].tolist()

    # the checks on the merged summaries: the same violations, drift distances within the sketch bound
    baseline_cols, baseline_present = _window(40_000, seed=99, missing=(0.0,) * 4)
    base_stats = dq.statistics_of(KINDS, _one_shot(baseline_cols, baseline_present, np.arange(40_000)))
    cons_doc = dq.suggest_constraints(base_stats)
    cons = dq.parse_constraints(cons_doc, "s3://b/constraints.json", [k for k, _ in KINDS])
    base = dq.parse_statistics(base_stats, "s3://b/statistics.json")
    v1, m1 = dq.check(cons, base, KINDS, one)
    v2, m2 = dq.check(cons, base, KINDS, merged)
    assert v1 == v2
    assert {v["feature_name"] for v in v1 if v["constraint_check_type"] == "completeness_check"} == {
        "lognormal", "integers", "cat"}
    for name in m1:
        assert m2[name]["completeness"] == m1[name]["completeness"]
        assert m2[name]["baselineDrift"] == pytest.approx(m1[name]["baselineDrift"], abs=2 / dqs.SHARD_SKETCH)


def test_one_shot_drift_distance_is_scipys_ks_statistic_against_an_exact_baseline() -> None:
    rng = np.random.default_rng(4)
    base_x, cur_x = rng.normal(size=1500), rng.normal(0.2, 1.0, 3000)
    base = dq.numeric_statistics(base_x)  # 1,500 values <= 2,048: the sketch is the whole sample
    d = dq.numeric_distance(base, dqs.of_values("numeric", cur_x))
    assert d == pytest.approx(st.ks_2samp(base_x, cur_x).statistic, abs=1e-12)


def test_merge_refuses_mixed_kinds() -> None:
    with pytest.raises(ValueError, match="categorical"):
        dqs.merge([dqs.of_values("numeric", [1.0]), dqs.of_values("categorical", ["a"])])
    with pytest.raises(ValueError, match="nothing"):
        dqs.merge([])


def test_model_monitor_statistics_fixture_still_reads() -> None:
    doc = json.loads((ROOT / "tests/fixtures/model_monitor/statistics.json").read_text())
    assert dq.parse_statistics(doc, "s3://b/statistics.json")


@pytest.mark.parametrize(("method", "drifted"), [("Simple", True), ("Robust", False)])
def test_robust_comparison_also_needs_the_ks_critical_value(method: str, drifted: bool) -> None:
    rng = np.random.default_rng(8)
    base_stats = dq.statistics_of([("x", "numeric")], {"x": rng.normal(size=5000)})
    cons_doc = dq.suggest_constraints(base_stats)
    cons_doc["monitoring_config"]["distribution_constraints"]["comparison_method"] = method
    cons = dq.parse_constraints(cons_doc, "s3://b/c.json", ["x"])
    window = rng.normal(0.1, 1.0, 60)  # distance above: above the 0.1 threshold, below 1.358*sqrt(1/60+1/5000)
    d = dq.numeric_distance(base_stats["features"][0]["numerical_statistics"], window)
    critical = 1.358 * np.sqrt((5000 + 60) / (5000 * 60))
    assert 0.1 < d < critical
    violations, _ = dq.check(cons, dq.parse_statistics(base_stats, "s3://b/s.json"), [("x", "numeric")],
                             {"x": window})
    assert any(v["constraint_check_type"] == "baseline_drift_check" for v in violations) is drifted


def test_build_baseline_counts_missing_training_values_per_feature() -> None:
    from drift_checker.baseline import build_baseline
    from driftline_common.config import parse_config

    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()), scope=None)
    rng = np.random.default_rng(6)
    lines = []
    for i in range(400):
        cells = [f"{v:.4f}" for v in rng.normal(size=5)] + [str(rng.choice(["a", "b"]))]
        if i < 40:
            cells[1] = ""  # f1 empty in 40 rows
        if 40 <= i < 45:
            cells[2] = "n/a"  # f2 not a number in 5 rows
        lines.append(",".join(["1", *cells]))
    mm: dict[str, object] = {}
    build_baseline(cfg, ["\n".join(lines)], model_monitor=mm)
    stats = {f["name"]: f for f in mm["statistics"]["features"]}  # type: ignore[index]
    assert mm["statistics"]["dataset"]["item_count"] == 400  # type: ignore[index]
    assert stats["f0"]["numerical_statistics"]["common"] == {"num_present": 400, "num_missing": 0}
    assert stats["f1"]["numerical_statistics"]["common"] == {"num_present": 360, "num_missing": 40}
    assert stats["f2"]["numerical_statistics"]["common"] == {"num_present": 400, "num_missing": 0}
    completeness = {c["name"]: c["completeness"] for c in mm["constraints"]["features"]}  # type: ignore[index]
    assert completeness["f0"] == 1.0
    assert completeness["f1"] == pytest.approx(0.9)
