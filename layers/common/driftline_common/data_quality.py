"""Data quality in SageMaker Model Monitor's own file formats: ``statistics.json``, ``constraints.json`` and
``constraint_violations.json``, as the SageMaker developer guide documents them ("Schema for Statistics",
"Schema for Constraints", "Schema for Violations"; see docs/model-monitor.md).

- :func:`statistics_of` computes a ``statistics.json`` document of a table of feature columns (the training
  data when the baseline is built, the window at every run);
- :func:`suggest_constraints` derives a ``constraints.json`` from a baseline's statistics, as Model Monitor's
  ``suggest_baseline`` does (inferred type, completeness, non-negativity, the domain of low-cardinality strings,
  and the documented ``monitoring_config`` defaults);
- :func:`parse_statistics` / :func:`parse_constraints` read such files — Driftline's or Model Monitor's — as they
  are, and raise :class:`~driftline_common.errors.InvalidConstraints` naming the file and the entry when one
  cannot be used;
- :func:`check` evaluates a window's statistics against the constraints (and the baseline statistics, for
  ``baseline_drift_check``) and returns the violations in ``constraint_violations.json``'s layout;
- :func:`cloudwatch_metrics` names the metrics Model Monitor's container publishes for a window.

Everything here is pure (no I/O); the drift checker's ``monitor`` action reads and writes the files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftline_common.errors import InvalidConstraints

#: the check types of ``constraint_violations.json`` (Model Monitor's "Types of Violations Monitored")
CHECK_TYPES = (
    "data_type_check", "completeness_check", "baseline_drift_check", "missing_column_check",
    "extra_column_check", "categorical_values_check",
)
INFERRED_TYPES = ("Integral", "Fractional", "String", "Unknown")
#: ``monitoring_config`` defaults, as the constraints schema documents them
DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}
#: a string feature with at most this many distinct values gets ``string_constraints.domains``
MAX_DOMAIN = 64
#: KLL buckets materialised per numeric feature (Model Monitor's fixed 10)
BUCKETS = 10
#: values kept in the sketch's single level: every k-th of the sorted values, so the sketch's CDF is within
#: 1/2048 of the data's (and the statistics file stays small at a million rows)
SKETCH_SIZE = 2048
#: a sketch with fewer items than this is too coarse for a KS distance: the KLL buckets are used instead
MIN_SKETCH_ITEMS = 200
#: Model Monitor's CloudWatch namespace of a real-time endpoint's data-quality metrics
NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
#: Kolmogorov–Smirnov critical coefficient at 5 % (``Robust`` comparison, see :func:`check`)
KS_C_ALPHA = 1.358


# ---------------------------------------------------------------------------------------------------- statistics
def _is_integral(x: np.ndarray) -> bool:
    return bool(x.size) and bool(np.all(np.isfinite(x))) and bool(np.all(x == np.round(x)))


def numeric_statistics(x: np.ndarray, missing: int) -> dict[str, Any]:
    """The ``numerical_statistics`` block of one numeric column (``x`` holds the present values)."""
    x = np.asarray(x, dtype=np.float64)
    n = int(x.size)
    common = {"num_present": n, "num_missing": int(missing)}
    if n == 0:
        return {"common": common, "mean": 0.0, "sum": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0,
                "distribution": {"kll": {"buckets": [], "sketch": {"parameters": {"c": 0.64, "k": SKETCH_SIZE},
                                                                  "data": [[]]}}}}
    lo, hi = float(x.min()), float(x.max())
    edges = np.linspace(lo, hi, BUCKETS + 1) if hi > lo else np.array([lo, hi])
    counts = np.histogram(x, bins=edges)[0] if hi > lo else np.array([n])
    buckets = [{"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(c)}
               for i, c in enumerate(counts)]
    xs = np.sort(x)
    step = max(1, math.ceil(n / SKETCH_SIZE))
    return {
        "common": common, "mean": float(x.mean()), "sum": float(x.sum()), "std_dev": float(x.std()),
        "min": lo, "max": hi,
        "distribution": {"kll": {"buckets": buckets,
                                 "sketch": {"parameters": {"c": 0.64, "k": SKETCH_SIZE},
                                            "data": [xs[::step].tolist()]}}},
    }


def string_statistics(values: np.ndarray, missing: int) -> dict[str, Any]:
    """The ``string_statistics`` block of one string column."""
    cats, counts = np.unique(np.asarray(values).astype(str), return_counts=True)
    return {
        "common": {"num_present": int(counts.sum()), "num_missing": int(missing)},
        "distinct_count": float(cats.size),
        "distribution": {"categorical": {"buckets": [{"value": str(v), "count": float(c)}
                                                     for v, c in zip(cats.tolist(), counts.tolist(), strict=True)]}},
    }


def statistics_of(features: Sequence[tuple[str, str]], columns: Mapping[str, np.ndarray], *, missing: int = 0
                  ) -> dict[str, Any]:
    """A ``statistics.json`` document of ``columns`` for ``features`` (``(name, "numeric"|"categorical")``).

    ``missing``: rows whose feature values could not be read (counted as missing for every feature: the
    window reader rejects a row with a missing or non-numeric value as a whole).
    """
    out: list[dict[str, Any]] = []
    item_count = 0
    for name, kind in features:
        col = np.asarray(columns.get(name, np.zeros(0)))
        item_count = max(item_count, int(col.size) + int(missing))
        if kind == "numeric":
            x = col.astype(np.float64)
            out.append({"name": name, "inferred_type": "Integral" if _is_integral(x) else "Fractional",
                        "numerical_statistics": numeric_statistics(x, missing)})
        else:
            out.append({"name": name, "inferred_type": "String", "string_statistics": string_statistics(col, missing)})
    return {"version": 0, "dataset": {"item_count": item_count}, "features": out}


def suggest_constraints(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """A ``constraints.json`` document suggested from a baseline's ``statistics.json`` (``suggest_baseline``)."""
    out: list[dict[str, Any]] = []
    for feat in statistics.get("features", []):
        block = feat.get("numerical_statistics") or feat.get("string_statistics") or {}
        common = block.get("common", {})
        present, absent = float(common.get("num_present", 0)), float(common.get("num_missing", 0))
        entry: dict[str, Any] = {"name": feat["name"], "inferred_type": feat["inferred_type"],
                                 "completeness": present / (present + absent) if present + absent else 1.0}
        if "numerical_statistics" in feat:
            entry["num_constraints"] = {"is_non_negative": bool(block.get("min", 0.0) >= 0)}
        else:
            buckets = block.get("distribution", {}).get("categorical", {}).get("buckets", [])
            if len(buckets) <= MAX_DOMAIN:
                entry["string_constraints"] = {"domains": [b["value"] for b in buckets]}
        out.append(entry)
    return {"version": 0, "features": out, "monitoring_config": dict(DEFAULT_MONITORING_CONFIG)}


# ---------------------------------------------------------------------------------------------------- parsing
@dataclass(frozen=True)
class FeatureConstraint:
    name: str
    inferred_type: str
    completeness: float | None
    is_non_negative: bool | None
    domains: tuple[str, ...] | None
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Constraints:
    features: dict[str, FeatureConstraint]
    monitoring_config: dict[str, Any]

    def setting(self, feature: str, key: str) -> Any:
        """A ``monitoring_config`` value, overridden by the feature's ``monitoringConfigOverrides``."""
        over = self.features[feature].overrides if feature in self.features else {}
        if key in over:
            return over[key]
        dist = self.monitoring_config.get("distribution_constraints", {})
        if key in dist:
            return dist[key]
        return self.monitoring_config.get(key, DEFAULT_MONITORING_CONFIG.get(key,
                                          DEFAULT_MONITORING_CONFIG["distribution_constraints"].get(key)))


def _fail(uri: str, entry: str, message: str) -> InvalidConstraints:
    return InvalidConstraints(f"{uri}: {entry}: {message}", uri=uri, entry=entry)


def _number(value: Any, uri: str, entry: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= float(value) <= high:
        raise _fail(uri, entry, f"must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def parse_constraints(doc: Any, uri: str, feature_names: Sequence[str]) -> Constraints:
    """Read a ``constraints.json`` (Driftline's or Model Monitor's) for a model with ``feature_names``.

    Raises :class:`InvalidConstraints` (file and entry named) when the document is not an object with a
    ``features`` list, an entry names a feature the config lacks, has an unknown ``inferred_type`` or a
    completeness outside [0, 1], or ``monitoring_config`` holds an unknown check setting or an invalid value.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise _fail(uri, "<root>", "a constraints file is a JSON object with a 'features' list")
    known = set(feature_names)
    features: dict[str, FeatureConstraint] = {}
    for i, f in enumerate(doc["features"]):
        where = f"features[{i}]"
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise _fail(uri, where, "each feature is an object with a string 'name'")
        name = f["name"]
        where = f"features[{i}] ({name!r})"
        if name not in known:
            raise _fail(uri, where, f"names a feature the model config lacks; config features: {sorted(known)[:20]}")
        itype = f.get("inferred_type", "Unknown")
        if itype not in INFERRED_TYPES:
            raise _fail(uri, where, f"unknown inferred_type {itype!r}; expected one of {list(INFERRED_TYPES)}")
        comp = f.get("completeness")
        completeness = None if comp is None else _number(comp, uri, f"{where}.completeness", 0.0, 1.0)
        num = f.get("num_constraints") or {}
        strc = f.get("string_constraints") or {}
        if not isinstance(num, dict) or not isinstance(strc, dict):
            raise _fail(uri, where, "num_constraints and string_constraints are objects")
        non_neg = num.get("is_non_negative")
        if non_neg is not None and not isinstance(non_neg, bool):
            raise _fail(uri, f"{where}.num_constraints.is_non_negative", f"must be true or false, got {non_neg!r}")
        domains = strc.get("domains")
        if domains is not None and (not isinstance(domains, list)
                                    or not all(isinstance(d, (str, int, float)) for d in domains)):
            raise _fail(uri, f"{where}.string_constraints.domains", "must be a list of values")
        overrides = f.get("monitoringConfigOverrides") or {}
        if not isinstance(overrides, dict):
            raise _fail(uri, f"{where}.monitoringConfigOverrides", "must be an object")
        _check_settings(overrides, uri, f"{where}.monitoringConfigOverrides")
        features[name] = FeatureConstraint(name, itype, completeness, non_neg,
                                           None if domains is None else tuple(str(d) for d in domains), overrides)
    mc = doc.get("monitoring_config", {})
    if not isinstance(mc, dict):
        raise _fail(uri, "monitoring_config", "must be an object")
    _check_settings(mc, uri, "monitoring_config")
    return Constraints(features, mc)


_ENABLED = ("Enabled", "Disabled")
_SETTINGS: dict[str, Any] = {
    "evaluate_constraints": _ENABLED, "emit_metrics": _ENABLED, "perform_comparison": _ENABLED,
    "datatype_check_threshold": (0.0, 1.0), "domain_content_threshold": (0.0, 1.0),
    "comparison_threshold": (0.0, 1.0), "categorical_comparison_threshold": (0.0, 1.0),
    "comparison_method": ("Simple", "Robust"), "categorical_drift_method": ("LInfinity", "ChiSquared"),
}


def _check_settings(mc: Mapping[str, Any], uri: str, where: str) -> None:
    for key, value in mc.items():
        if key == "distribution_constraints":
            if not isinstance(value, dict):
                raise _fail(uri, f"{where}.{key}", "must be an object")
            _check_settings(value, uri, f"{where}.{key}")
            continue
        allowed = _SETTINGS.get(key)
        if allowed is None:
            raise _fail(uri, f"{where}.{key}", f"unknown setting; Driftline knows {sorted(_SETTINGS)}")
        if isinstance(allowed[0], str):
            if value not in allowed:
                raise _fail(uri, f"{where}.{key}", f"must be one of {list(allowed)}, got {value!r}")
        else:
            _number(value, uri, f"{where}.{key}", *allowed)


def parse_statistics(doc: Any, uri: str) -> dict[str, dict[str, Any]]:
    """The per-feature entries of a ``statistics.json`` by name; :class:`InvalidConstraints` when unusable."""
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise _fail(uri, "<root>", "a statistics file is a JSON object with a 'features' list")
    out: dict[str, dict[str, Any]] = {}
    for i, f in enumerate(doc["features"]):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise _fail(uri, f"features[{i}]", "each feature is an object with a string 'name'")
        if not isinstance(f.get("numerical_statistics") or f.get("string_statistics"), dict):
            raise _fail(uri, f"features[{i}] ({f['name']!r})", "has neither numerical_statistics nor string_statistics")
        out[f["name"]] = f
    return out


# ---------------------------------------------------------------------------------------------------- checks
def _violation(feature: str, check_type: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check_type, "description": description}


def _sketch(num: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """The baseline's KLL sketch as sorted values and their weights (an item of level ``h`` stands for ``2**h``
    values, level 0 first, as the sketch's ``data`` lists its compactors), or ``None`` without one or with fewer
    than :data:`MIN_SKETCH_ITEMS` items (too coarse a CDF: the buckets are used then)."""
    levels = num.get("distribution", {}).get("kll", {}).get("sketch", {}).get("data") or []
    values, weights = [], []
    for h, level in enumerate(levels):
        if isinstance(level, list) and level:
            values.append(np.asarray(level, dtype=np.float64))
            weights.append(np.full(len(level), float(2**h)))
    if sum(len(a) for a in values) < MIN_SKETCH_ITEMS:
        return None
    v, w = np.concatenate(values), np.concatenate(weights)
    order = np.argsort(v, kind="stable")
    return v[order], w[order]


def _bucket_cdf(points: np.ndarray, buckets: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The CDF of a KLL bucket histogram at sorted ``points`` (linear within a bucket)."""
    lo = np.array([float(b["lower_bound"]) for b in buckets])
    hi = np.array([float(b["upper_bound"]) for b in buckets])
    cnt = np.array([float(b["count"]) for b in buckets])
    total = cnt.sum()
    if total <= 0:
        return np.zeros(points.size)
    knots = np.concatenate([lo[:1], hi])
    cum = np.concatenate([[0.0], np.cumsum(cnt)]) / total
    return np.asarray(np.interp(points, knots, cum, left=0.0, right=1.0))


def numeric_distance(base: Mapping[str, Any], current: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance between the baseline and the window: the largest gap between the baseline's
    CDF — its KLL sketch when it has one (a weighted sample of the quantiles), else its KLL buckets, linear
    inside a bucket — and the window's empirical CDF, over every jump of either."""
    x = np.sort(np.asarray(current, dtype=np.float64))
    if x.size == 0:
        return 0.0
    sketch = _sketch(base)
    if sketch is not None:
        v, w = sketch
        cum = np.cumsum(w) / w.sum()
        pts = np.concatenate([v, x])
        base_cdf = np.concatenate([[0.0], cum])[np.searchsorted(v, pts, side="right")]
    else:
        buckets = base.get("distribution", {}).get("kll", {}).get("buckets", [])
        if not buckets:
            return 0.0
        bounds = np.array([float(b["lower_bound"]) for b in buckets] + [float(buckets[-1]["upper_bound"])])
        pts = np.concatenate([bounds, x])
        base_cdf = _bucket_cdf(pts, buckets)
    emp = np.searchsorted(x, pts, side="right") / x.size
    # just below each window value too: the step functions differ most on either side of a jump
    below = np.searchsorted(x, pts, side="left") / x.size
    base_below = base_cdf if sketch is None else np.concatenate([[0.0], cum])[np.searchsorted(v, pts, side="left")]
    return float(max(np.max(np.abs(base_cdf - emp)), np.max(np.abs(base_below - below))))


def categorical_distance(base: Mapping[str, Any], current: np.ndarray) -> float:
    """L-infinity distance between the baseline's and the window's category proportions."""
    buckets = base.get("distribution", {}).get("categorical", {}).get("buckets", [])
    ref = {str(b["value"]): float(b["count"]) for b in buckets}
    cats, counts = np.unique(np.asarray(current).astype(str), return_counts=True)
    cur = dict(zip(cats.tolist(), counts.astype(float).tolist(), strict=True))
    rt, ct = sum(ref.values()), sum(cur.values())
    if rt <= 0 or ct <= 0:
        return 0.0
    return float(max(abs(ref.get(k, 0.0) / rt - cur.get(k, 0.0) / ct) for k in set(ref) | set(cur)))


def _numeric_share(values: np.ndarray) -> float:
    """Share of string values that parse as finite numbers."""
    if values.size == 0:
        return 1.0
    ok = 0
    for v in np.unique(values.astype(str)):
        try:
            if math.isfinite(float(v)):
                ok += int(np.count_nonzero(values == v))
        except ValueError:
            continue
    return ok / values.size


def check(constraints: Constraints, baseline: Mapping[str, Mapping[str, Any]] | None,
          features: Sequence[tuple[str, str]], columns: Mapping[str, np.ndarray], *, missing: int = 0
          ) -> tuple[list[dict[str, str]], dict[str, dict[str, float]]]:
    """The violations of the window ``columns`` and the per-feature measurements behind them.

    Returns ``(violations, measures)``: ``violations`` in ``constraint_violations.json``'s layout and, per
    feature, ``completeness`` and ``baselineDrift`` (the distance compared with the threshold) — the values
    the CloudWatch metrics carry.
    """
    if constraints.monitoring_config.get("evaluate_constraints", "Enabled") == "Disabled":
        return [], {}
    kinds = dict(features)
    out: list[dict[str, str]] = []
    measures: dict[str, dict[str, float]] = {}
    for name in kinds:
        if name not in constraints.features:
            out.append(_violation(name, "extra_column_check",
                                  f"feature {name!r} is in the data but not in the baseline constraints"))
    for name, fc in constraints.features.items():
        col = np.asarray(columns.get(name, np.zeros(0)))
        total = col.size + missing
        if total and col.size == 0:
            out.append(_violation(name, "missing_column_check",
                                  f"no value of feature {name!r} could be read from the window's {total} rows"))
            continue
        if total == 0:
            continue
        completeness = col.size / total
        m: dict[str, float] = {"completeness": completeness}
        measures[name] = m
        if fc.completeness is not None and completeness < fc.completeness - 1e-12:
            out.append(_violation(name, "completeness_check",
                                  f"completeness {completeness:.6g} is below the baseline constraint "
                                  f"{fc.completeness:.6g}"))
        numeric_cfg = kinds.get(name) == "numeric"
        type_threshold = float(constraints.setting(name, "datatype_check_threshold"))
        if fc.inferred_type in ("Integral", "Fractional"):
            if numeric_cfg:
                x = col.astype(np.float64)
                if fc.inferred_type == "Integral":
                    share = float(np.mean(x != np.round(x))) if x.size else 0.0
                    if share > type_threshold:
                        out.append(_violation(name, "data_type_check",
                                              f"{share:.4g} of the values are Fractional, the baseline is Integral "
                                              f"(datatype_check_threshold {type_threshold:g})"))
                if fc.is_non_negative and x.size and float(x.min()) < 0:
                    out.append(_violation(name, "data_type_check",
                                          f"negative values (min {float(x.min()):g}) in a feature constrained to be "
                                          "non-negative"))
            else:
                share = 1.0 - _numeric_share(col)
                if share > type_threshold:
                    out.append(_violation(name, "data_type_check",
                                          f"{share:.4g} of the values are String, the baseline is {fc.inferred_type} "
                                          f"(datatype_check_threshold {type_threshold:g})"))
        elif fc.inferred_type == "String" and numeric_cfg:
            out.append(_violation(name, "data_type_check",
                                  f"the values are numeric, the baseline is String (datatype_check_threshold "
                                  f"{type_threshold:g})"))
        elif fc.inferred_type == "String" and fc.domains is not None:
            strings = col.astype(str)
            if strings.size:
                unseen = float(np.mean(~np.isin(strings, np.asarray(fc.domains))))
                threshold = float(constraints.setting(name, "domain_content_threshold"))
                if unseen > threshold:
                    out.append(_violation(name, "categorical_values_check",
                                          f"{unseen:.4g} of the values are outside the baseline domain "
                                          f"(domain_content_threshold {threshold:g})"))
        base = (baseline or {}).get(name)
        if base is None or constraints.setting(name, "perform_comparison") == "Disabled":
            continue
        if "numerical_statistics" in base and numeric_cfg:
            d = numeric_distance(base["numerical_statistics"], col)
            threshold = float(constraints.setting(name, "comparison_threshold"))
            n_ref = float(base["numerical_statistics"].get("common", {}).get("num_present", 0))
            drifted = d > threshold
            if drifted and constraints.setting(name, "comparison_method") == "Robust" and n_ref > 0:
                drifted = d > KS_C_ALPHA * math.sqrt((n_ref + col.size) / (n_ref * col.size))
            m["baselineDrift"] = d
        elif "string_statistics" in base and not numeric_cfg:
            d = categorical_distance(base["string_statistics"], col)
            threshold = float(constraints.setting(name, "categorical_comparison_threshold"))
            drifted = d > threshold
            m["baselineDrift"] = d
        else:
            continue
        if drifted:
            out.append(_violation(name, "baseline_drift_check",
                                  f"baseline drift distance {d:.6g} exceeds threshold {threshold:g}"))
    return out, measures


def cloudwatch_metrics(measures: Mapping[str, Mapping[str, float]], statistics: Mapping[str, Any]
                       ) -> list[dict[str, Any]]:
    """The metric data Model Monitor's container publishes for a window (``PutMetricData`` entries without
    timestamp and dimensions): ``feature_non_null_<f>`` (completeness), ``feature_baseline_drift_<f>`` (the
    distance) and, for numeric features, ``feature_data_<f>`` with Min/Max/Sum/SampleCount statistic values."""
    out: list[dict[str, Any]] = []
    stats = {f["name"]: f for f in statistics.get("features", [])}
    for name, m in sorted(measures.items()):
        out.append({"MetricName": f"feature_non_null_{name}", "Value": float(m["completeness"])})
        if "baselineDrift" in m:
            out.append({"MetricName": f"feature_baseline_drift_{name}", "Value": float(m["baselineDrift"])})
        num = stats.get(name, {}).get("numerical_statistics")
        if num and num["common"]["num_present"]:
            out.append({"MetricName": f"feature_data_{name}", "StatisticValues": {
                "SampleCount": float(num["common"]["num_present"]), "Sum": float(num["sum"]),
                "Minimum": float(num["min"]), "Maximum": float(num["max"])}})
    return out
