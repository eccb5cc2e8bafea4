"""Model Monitor's statistics / constraints / violations formats (driftline_common.data_quality)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from driftline_common import data_quality as dq
from driftline_common.errors import InvalidConstraints
from scipy import stats as sps

from tests.conftest import ROOT

FIXTURES = ROOT / "tests/fixtures/model_monitor"
KINDS = [*((f"f{i}", "numeric") for i in range(5)), ("f5", "categorical")]
NAMES = [n for n, _ in KINDS]
CONS_URI = "s3://b/mm/constraints.json"


def _mm(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _window(n: int, rng: np.random.Generator, shift: float = 0.0, cats: Any = (0.5, 0.3, 0.2),
            values: Any = ("a", "b", "c")) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {f"f{i}": rng.normal(shift if i == 0 else 0.0, 1.0, n) for i in range(5)}
    cols["f5"] = rng.choice(np.array(values), n, p=list(cats))
    return cols


def test_model_monitor_files_are_read_as_they_are() -> None:
    cons = dq.parse_constraints(_mm("constraints.json"), CONS_URI, NAMES)
    assert set(cons.features) == set(NAMES)
    assert cons.features["f5"].domains == ("a", "b", "c")
    assert cons.setting("f0", "comparison_method") == "Robust"
    stats = dq.parse_statistics(_mm("statistics.json"), "s3://b/mm/statistics.json")
    assert stats["f0"]["inferred_type"] == "Fractional"


def test_same_distribution_has_no_violation_and_shifts_do() -> None:
    cons = dq.parse_constraints(_mm("constraints.json"), CONS_URI, NAMES)
    base = dq.parse_statistics(_mm("statistics.json"), "s3://b/mm/statistics.json")
    rng = np.random.default_rng(0)
    violations, measures = dq.check(cons, base, KINDS, _window(3000, rng))
    assert violations == []
    assert measures["f0"]["completeness"] == 1.0
    assert measures["f0"]["baselineDrift"] < 0.05
    violations, measures = dq.check(cons, base, KINDS, _window(3000, rng, shift=1.0, cats=(0.1, 0.3, 0.6)),
                                    missing=300)
    kinds = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("f0", "baseline_drift_check") in kinds
    assert ("f5", "baseline_drift_check") in kinds
    assert ("f1", "baseline_drift_check") not in kinds
    assert ("f1", "completeness_check") in kinds
    assert measures["f1"]["completeness"] == pytest.approx(3000 / 3300)
    assert all(set(v) == {"feature_name", "constraint_check_type", "description"} for v in violations)
    assert {v["constraint_check_type"] for v in violations} <= set(dq.CHECK_TYPES)


def test_numeric_distance_is_the_ks_distance_to_the_baseline() -> None:
    rng = np.random.default_rng(4)
    ref = rng.normal(size=20_000)
    stats = dq.statistics_of([("x", "numeric")], {"x": ref})
    for shift in (0.0, 0.3, 1.0):
        cur = rng.normal(shift, 1.0, 5000)
        d = dq.numeric_distance(stats["features"][0]["numerical_statistics"], cur)
        # the baseline CDF comes from its sketch (2,048 quantiles): within 1/2048 of SciPy's KS statistic
        assert d == pytest.approx(sps.ks_2samp(ref, cur).statistic, abs=1e-3)
    skewed = rng.lognormal(0, 1, 20_000)  # one bucket holds most of the mass: the sketch keeps the KS exact
    stats = dq.statistics_of([("x", "numeric")], {"x": skewed})
    cur = rng.lognormal(0.1, 1, 5000)
    d = dq.numeric_distance(stats["features"][0]["numerical_statistics"], cur)
    assert d == pytest.approx(sps.ks_2samp(skewed, cur).statistic, abs=1e-3)
    # without a usable sketch (Model Monitor's documented example has 9 values) the buckets are used
    normal = rng.normal(size=20_000)
    nstats = dq.statistics_of([("x", "numeric")], {"x": normal})["features"][0]["numerical_statistics"]
    nstats["distribution"]["kll"]["sketch"]["data"] = [[0.0]]
    cur = rng.normal(0.5, 1, 5000)
    assert dq.numeric_distance(nstats, cur) == pytest.approx(sps.ks_2samp(normal, cur).statistic, abs=0.03)


def test_type_domain_and_column_checks() -> None:
    rng = np.random.default_rng(1)
    train = _window(2000, rng)
    train["f1"] = rng.integers(0, 10, 2000).astype(float)
    stats = dq.statistics_of(KINDS, train)
    assert stats["features"][1]["inferred_type"] == "Integral"
    assert stats["features"][0]["inferred_type"] == "Fractional"
    assert stats["features"][5]["string_statistics"]["distinct_count"] == 3
    suggested = dq.suggest_constraints(stats)
    assert suggested["monitoring_config"] == dq.DEFAULT_MONITORING_CONFIG
    cons = dq.parse_constraints(json.loads(json.dumps(suggested)), CONS_URI, NAMES)
    assert cons.features["f1"].is_non_negative is True
    window = _window(1000, rng, values=("a", "b", "z"))
    window["f1"] = rng.normal(5, 1, 1000)  # fractional and sometimes negative in an Integral, non-negative feature
    window["f1"][0] = -1.0
    violations, _ = dq.check(cons, None, [*KINDS, ("extra", "numeric")], {**window, "extra": window["f0"]})
    got = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("f1", "data_type_check") in got
    assert ("f5", "categorical_values_check") in got
    assert ("extra", "extra_column_check") in got
    assert not any(v["constraint_check_type"] == "baseline_drift_check" for v in violations)  # no baseline given
    window["f2"] = np.zeros(0)
    violations, _ = dq.check(cons, None, KINDS, window, missing=10)
    assert ("f2", "missing_column_check") in {(v["feature_name"], v["constraint_check_type"]) for v in violations}


def test_a_string_baseline_against_numeric_values_is_a_type_violation() -> None:
    cons = dq.parse_constraints({"features": [{"name": "f0", "inferred_type": "String"}]}, CONS_URI, ["f0"])
    violations, _ = dq.check(cons, None, [("f0", "numeric")], {"f0": np.arange(50.0)})
    assert [v["constraint_check_type"] for v in violations] == ["data_type_check"]
    cons = dq.parse_constraints({"features": [{"name": "f0", "inferred_type": "Fractional"}]}, CONS_URI, ["f0"])
    words = np.array(["x"] * 20 + ["1.5"] * 80)
    violations, _ = dq.check(cons, None, [("f0", "categorical")], {"f0": words})
    assert [v["constraint_check_type"] for v in violations] == ["data_type_check"]
    assert "0.2 of the values are String" in violations[0]["description"]


def test_disabled_evaluation_and_comparison() -> None:
    doc = _mm("constraints.json")
    doc["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    cons = dq.parse_constraints(doc, CONS_URI, NAMES)
    base = dq.parse_statistics(_mm("statistics.json"), "s")
    violations, _ = dq.check(cons, base, KINDS, _window(2000, np.random.default_rng(2), shift=2.0))
    assert violations == []
    doc["monitoring_config"]["evaluate_constraints"] = "Disabled"
    assert dq.check(dq.parse_constraints(doc, CONS_URI, NAMES), base, KINDS, {}) == ([], {})


@pytest.mark.parametrize(("doc", "entry"), [
    ([1, 2], "<root>"),
    ({"features": [{"name": "zzz"}]}, "features[0] ('zzz')"),
    ({"features": [{"name": "f0", "inferred_type": "Decimal"}]}, "features[0] ('f0')"),
    ({"features": [{"name": "f0", "completeness": 1.5}]}, "features[0] ('f0').completeness"),
    ({"features": [], "monitoring_config": {"custom_check_threshold": 0.1}},
     "monitoring_config.custom_check_threshold"),
    ({"features": [], "monitoring_config": {"distribution_constraints": {"comparison_method": "Fancy"}}},
     "monitoring_config.distribution_constraints.comparison_method"),
    ({"features": [{"name": "f0", "monitoringConfigOverrides": {"bogus": 1}}]},
     "features[0] ('f0').monitoringConfigOverrides.bogus"),
])
def test_bad_constraints_name_the_file_and_the_entry(doc: Any, entry: str) -> None:
    with pytest.raises(InvalidConstraints) as info:
        dq.parse_constraints(doc, CONS_URI, NAMES)
    assert info.value.details == {"uri": CONS_URI, "entry": entry}
    assert str(info.value).startswith(f"{CONS_URI}: {entry}: ")


def test_cloudwatch_metric_names_are_model_monitors() -> None:
    rng = np.random.default_rng(3)
    cols = _window(500, rng)
    stats = dq.statistics_of(KINDS, cols)
    cons = dq.parse_constraints(dq.suggest_constraints(stats), CONS_URI, NAMES)
    _, measures = dq.check(cons, dq.parse_statistics(stats, "s"), KINDS, cols)
    data = dq.cloudwatch_metrics(measures, stats)
    names = {d["MetricName"] for d in data}
    assert {"feature_non_null_f0", "feature_baseline_drift_f0", "feature_data_f0", "feature_non_null_f5",
            "feature_baseline_drift_f5"} <= names
    assert "feature_data_f5" not in names
    f0 = next(d for d in data if d["MetricName"] == "feature_data_f0")["StatisticValues"]
    assert f0["SampleCount"] == 500
    assert f0["Sum"] == pytest.approx(float(cols["f0"].sum()))
