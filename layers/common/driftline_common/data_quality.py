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
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftline_common.dq_summary import Summary, _thin, of_values
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
Column = np.ndarray | Summary
Missing = int | Mapping[str, int]


def summaries(features: Sequence[tuple[str, str]], columns: Mapping[str, Column], missing: Missing = 0
              ) -> dict[str, Summary]:
    """Per feature, its :class:`~driftline_common.dq_summary.Summary`: ``columns`` holds the present values (or a
    summary already); ``missing`` the absent values, one number for every feature or one per feature."""
    out: dict[str, Summary] = {}
    for name, kind in features:
        col = columns.get(name)
        if isinstance(col, Summary):
            out[name] = col
            continue
        absent = int(missing.get(name, 0)) if isinstance(missing, Mapping) else int(missing)
        out[name] = of_values(kind, np.zeros(0) if col is None else col, missing=absent)
    return out


def _sketch_items(s: Summary) -> list[float]:
    """The ``sketch`` data of ``statistics.json``: at most :data:`SKETCH_SIZE` of the sorted values, evenly spaced
    in rank (every k-th value of a one-shot window; the same ranks of a merged sketch)."""
    v, w = s.sketch_values, s.sketch_weights
    if v.size and np.all(w == 1.0):
        return v[::max(1, math.ceil(v.size / SKETCH_SIZE))].tolist()
    return _thin(v, w, SKETCH_SIZE)[0].tolist()


def numeric_statistics(x: Column, missing: int = 0) -> dict[str, Any]:
    """The ``numerical_statistics`` block of one numeric column (``x``: its present values, or its summary)."""
    s = x if isinstance(x, Summary) else of_values("numeric", x, missing=missing)
    n = s.present
    common = {"num_present": s.non_null, "num_missing": s.missing}
    if n == 0:
        return {"common": common, "mean": 0.0, "sum": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0,
                "distribution": {"kll": {"buckets": [], "sketch": {"parameters": {"c": 0.64, "k": SKETCH_SIZE},
                                                                  "data": [[]]}}}}
    lo, hi = s.minimum, s.maximum
    v, w = s.sketch_values, s.sketch_weights
    if hi > lo:
        edges = np.linspace(lo, hi, BUCKETS + 1)
        cum = np.concatenate([[0.0], np.cumsum(w)]) * (n / w.sum())
        below = cum[np.searchsorted(v, edges[:-1], side="left")]
        counts = np.diff(np.concatenate([below, [float(n)]]))  # [e_i, e_i+1), the last bucket closed
        counts = np.round(counts, 6)
    else:
        edges, counts = np.array([lo, hi]), np.array([float(n)])
    buckets = [{"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(c)}
               for i, c in enumerate(counts)]
    return {
        "common": common, "mean": s.mean, "sum": s.total_sum, "std_dev": s.std, "min": lo, "max": hi,
        "distribution": {"kll": {"buckets": buckets,
                                 "sketch": {"parameters": {"c": 0.64, "k": SKETCH_SIZE},
                                            "data": [_sketch_items(s)]}}},
    }


def string_statistics(values: Column, missing: int = 0) -> dict[str, Any]:
    """The ``string_statistics`` block of one string column (its present values, or its summary)."""
    s = values if isinstance(values, Summary) else of_values("categorical", values, missing=missing)
    items = sorted(s.counts.items())
    return {
        "common": {"num_present": s.non_null, "num_missing": s.missing},
        "distinct_count": float(len(items)),
        "distribution": {"categorical": {"buckets": [{"value": k, "count": float(c)} for k, c in items]}},
    }


def statistics_of(features: Sequence[tuple[str, str]], columns: Mapping[str, Column], *, missing: Missing = 0
                  ) -> dict[str, Any]:
    """A ``statistics.json`` document of ``columns`` for ``features`` (``(name, "numeric"|"categorical")``).

    ``columns`` holds each feature's present values (or its :class:`Summary`, e.g. merged from shards);
    ``missing`` the values absent per feature (Model Monitor's completeness is per feature: a row with one missing
    value still counts for the others). ``item_count`` is the number of rows.
    """
    out: list[dict[str, Any]] = []
    item_count = 0
    for name, kind in features:
        s = summaries([(name, kind)], columns, missing)[name]
        item_count = max(item_count, s.rows)
        if kind == "numeric":
            integral = s.present > 0 and s.fractional == 0
            out.append({"name": name, "inferred_type": "Integral" if integral else "Fractional",
                        "numerical_statistics": numeric_statistics(s)})
        else:
            out.append({"name": name, "inferred_type": "String", "string_statistics": string_statistics(s)})
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


def numeric_distance(base: Mapping[str, Any], current: Column) -> float:
    """Kolmogorov–Smirnov distance between the baseline and the window: the largest gap between the baseline's
    CDF — its KLL sketch when it has one (a weighted sample of the quantiles), else its KLL buckets, linear
    inside a bucket — and the window's CDF (its values, or the weighted sketch of its :class:`Summary`), over
    every jump of either."""
    s = current if isinstance(current, Summary) else of_values("numeric", current)
    x, wx = s.sketch_values, s.sketch_weights
    if x.size == 0:
        return 0.0
    cur_cum = np.concatenate([[0.0], np.cumsum(wx)]) / wx.sum()
    sketch = _sketch(base)
    if sketch is not None:
        v, w = sketch
        cum = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
        pts = np.concatenate([v, x])
        base_cdf = cum[np.searchsorted(v, pts, side="right")]
        base_below = cum[np.searchsorted(v, pts, side="left")]
    else:
        buckets = base.get("distribution", {}).get("kll", {}).get("buckets", [])
        if not buckets:
            return 0.0
        bounds = np.array([float(b["lower_bound"]) for b in buckets] + [float(buckets[-1]["upper_bound"])])
        pts = np.concatenate([bounds, x])
        base_cdf = base_below = _bucket_cdf(pts, buckets)
    emp = cur_cum[np.searchsorted(x, pts, side="right")]
    # just below each window value too: the step functions differ most on either side of a jump
    below = cur_cum[np.searchsorted(x, pts, side="left")]
    return float(max(np.max(np.abs(base_cdf - emp)), np.max(np.abs(base_below - below))))


def _counts(current: Column) -> Counter[str]:
    if isinstance(current, Summary):
        return current.counts
    cats, counts = np.unique(np.asarray(current).astype(str), return_counts=True)
    return Counter(dict(zip(cats.tolist(), counts.tolist(), strict=True)))


def categorical_distance(base: Mapping[str, Any], current: Column) -> float:
    """L-infinity distance between the baseline's and the window's category proportions."""
    buckets = base.get("distribution", {}).get("categorical", {}).get("buckets", [])
    ref = {str(b["value"]): float(b["count"]) for b in buckets}
    cur = {k: float(v) for k, v in _counts(current).items()}
    rt, ct = sum(ref.values()), sum(cur.values())
    if rt <= 0 or ct <= 0:
        return 0.0
    return float(max(abs(ref.get(k, 0.0) / rt - cur.get(k, 0.0) / ct) for k in set(ref) | set(cur)))


def _numeric_share(counts: Mapping[str, int]) -> float:
    """Share of string values that parse as finite numbers."""
    total = sum(counts.values())
    if total == 0:
        return 1.0
    ok = 0
    for v, c in counts.items():
        try:
            if math.isfinite(float(v)):
                ok += c
        except ValueError:
            continue
    return ok / total


def check(constraints: Constraints, baseline: Mapping[str, Mapping[str, Any]] | None,
          features: Sequence[tuple[str, str]], columns: Mapping[str, Column], *, missing: Missing = 0
          ) -> tuple[list[dict[str, str]], dict[str, dict[str, float]]]:
    """The violations of the window ``columns`` and the per-feature measurements behind them.

    ``columns``/``missing`` as in :func:`statistics_of` (values or summaries; missing values per feature).
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
    numbers = summaries(list(features), columns, missing)
    for name, fc in constraints.features.items():
        col = numbers.get(name)
        if col is None:  # constrained, not in the config (parse_constraints refuses this): nothing was read
            continue
        total = col.rows
        if total and col.non_null == 0:
            out.append(_violation(name, "missing_column_check",
                                  f"no value of feature {name!r} could be read from the window's {total} rows"))
            continue
        if total == 0:
            continue
        completeness = col.non_null / total
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
                strings = col.strings / col.non_null
                if strings > type_threshold:
                    out.append(_violation(name, "data_type_check",
                                          f"{strings:.4g} of the values are String, the baseline is "
                                          f"{fc.inferred_type} (datatype_check_threshold {type_threshold:g})"))
                if fc.inferred_type == "Integral":
                    share = col.fractional / col.present if col.present else 0.0
                    if share > type_threshold:
                        out.append(_violation(name, "data_type_check",
                                              f"{share:.4g} of the values are Fractional, the baseline is Integral "
                                              f"(datatype_check_threshold {type_threshold:g})"))
                if fc.is_non_negative and col.negative:
                    out.append(_violation(name, "data_type_check",
                                          f"negative values (min {col.minimum:g}) in a feature constrained to be "
                                          "non-negative"))
            else:
                share = 1.0 - _numeric_share(col.counts)
                if share > type_threshold:
                    out.append(_violation(name, "data_type_check",
                                          f"{share:.4g} of the values are String, the baseline is {fc.inferred_type} "
                                          f"(datatype_check_threshold {type_threshold:g})"))
        elif fc.inferred_type == "String" and numeric_cfg:
            out.append(_violation(name, "data_type_check",
                                  f"the values are numeric, the baseline is String (datatype_check_threshold "
                                  f"{type_threshold:g})"))
        elif fc.inferred_type == "String" and fc.domains is not None:
            seen = sum(col.counts.values())
            if seen:
                domain = set(fc.domains)
                unseen = sum(c for v, c in col.counts.items() if v not in domain) / seen
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
            if drifted and constraints.setting(name, "comparison_method") == "Robust" and n_ref > 0 and col.present:
                drifted = d > KS_C_ALPHA * math.sqrt((n_ref + col.present) / (n_ref * col.present))
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
