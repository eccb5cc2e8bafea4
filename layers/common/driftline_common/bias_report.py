"""Bias and class imbalance of a labelled window, in SageMaker Clarify's ``analysis.json`` layout.

For every facet of the config's ``bias`` section (a feature and the values or threshold selecting the sensitive
group), the pre-training metrics of the observed labels (CI, DPL, KL, JS, LP, TVD, KS and, with a
``groupVariable``, CDDL) and the post-training metrics of the model's predicted labels (DPPL, DI, DCAcc, DCR,
RD, DAR, DRR, AD, TE) — Clarify's definitions, :mod:`driftline_metrics.bias` and
:mod:`driftline_metrics.bias_more`. The positive outcome is ``labelValuesOrThreshold``: label values for a
classifier (for a multiclass model, the chosen classes against the rest, as Clarify collapses them), a threshold
for a regressor (``label > threshold``, and ``prediction > threshold`` for the predicted label). The label
distribution metrics (KL, JS, LP, TVD, KS) compare the full class distribution of a classifier and the two
outcomes of a regressor. FT (Clarify's counterfactual flip test, :mod:`driftline_metrics.bias_flip`) matches each
member of the facet with its nearest neighbours outside it over the numeric features other than the facet
(categorical features are left out: Clarify's flip test refuses non-numeric columns).

A metric that is undefined on the window (an empty group, no common label value, an infinite ratio) carries
``"error"`` instead of ``"value"``, as Clarify's analysis does. A metric outside a configured threshold is a
breach; breaches make the run's ``BIAS`` signal.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from driftline_metrics import bias as b
from driftline_metrics.bias_flip import flip_test
from driftline_metrics.bias_more import conditional_demographic_disparity, post_training_extra

from driftline_common.config import BiasFacet, BiasSection, ModelConfig
from driftline_common.datasets import LabelledWindow, norm_label

DESCRIPTIONS = {
    "CI": "Class Imbalance (CI)", "DPL": "Difference in Positive Proportions in Labels (DPL)",
    "KL": "Kullback-Liebler Divergence (KL)", "JS": "Jensen-Shannon Divergence (JS)", "LP": "L-p Norm (LP)",
    "TVD": "Total Variation Distance (TVD)", "KS": "Kolmogorov-Smirnov Distance (KS)",
    "CDDL": "Conditional Demographic Disparity in Labels (CDDL)",
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)", "DI": "Disparate Impact (DI)",
    "DCAcc": "Difference in Conditional Acceptance (DCAcc)", "DCR": "Difference in Conditional Rejection (DCR)",
    "RD": "Recall Difference (RD)", "DAR": "Difference in Acceptance Rates (DAR)",
    "DRR": "Difference in Rejection Rates (DRR)", "AD": "Accuracy Difference (AD)", "TE": "Treatment Equality (TE)",
    "FT": "Flip Test (FT)",
}
PRE = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")
POST = ("DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "AD", "TE", "FT")


def predicted_labels(cfg: ModelConfig, window: LabelledWindow) -> np.ndarray:
    """The model's predicted label per row: a class label (classification) or the prediction (regression)."""
    scores = np.asarray(window.scores, dtype=np.float64)
    if cfg.problem_type == "regression":
        return scores[:, 0] if scores.ndim == 2 else scores
    labels = [norm_label(v) for v in cfg.labels or []]
    n = window.size
    if cfg.problem_type == "binary" and scores.size and np.all(np.isfinite(scores)):
        pos = labels.index(norm_label(cfg.positive_label or labels[1]))
        s = scores[:, pos] if scores.ndim == 2 and scores.shape[1] == len(labels) else (
            scores[:, -1] if scores.ndim == 2 else scores)
        return np.where(s > cfg.decision_threshold, labels[pos], labels[1 - pos])
    if cfg.problem_type == "multiclass" and scores.ndim == 2 and scores.shape[1] == len(labels) and scores.size \
            and np.all(np.isfinite(scores)):
        return np.asarray(labels)[np.argmax(scores, axis=1)]
    return _normalised(window.predicted) if n else np.zeros(0, dtype=str)


def _normalised(values: object) -> np.ndarray:
    """Canonical label strings (:func:`norm_label`), each distinct value normalised once."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=str)
    uniq, inv = np.unique(arr.astype(str), return_inverse=True)
    return np.asarray([norm_label(u) for u in uniq.tolist()])[inv.reshape(-1)]


def _member(values: np.ndarray, wanted: set[str]) -> np.ndarray:
    return np.isin(values, np.asarray(sorted(wanted))) if values.size else np.zeros(0, dtype=bool)


def _facet_mask(facet: BiasFacet, values: np.ndarray) -> tuple[np.ndarray, str]:
    if facet.threshold is not None:
        x = np.asarray(values, dtype=np.float64)
        top = float(x.max()) if x.size else facet.threshold
        return x > facet.threshold, f"({facet.threshold:g}, {top:g}]"
    wanted = {norm_label(v) for v in facet.values or []}
    return _member(_normalised(values), wanted), ",".join(facet.values or [])


def _metric(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "description": DESCRIPTIONS[name]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(fn(*args, **kwargs))
    except ValueError as exc:
        entry["error"] = str(exc)
        return entry
    if not math.isfinite(value):
        entry["error"] = f"the metric is {value} on this window (a ratio with a zero denominator)"
    else:
        entry["value"] = value
    return entry


def flip_features(cfg: ModelConfig, window: LabelledWindow, facet: str) -> np.ndarray:
    """The flip test's neighbour space: the window's numeric features other than ``facet`` (rows x features)."""
    cols = [np.asarray(window.features[f.name], dtype=np.float64) for f in cfg.features
            if f.type == "numeric" and f.name != facet and f.name in window.features]
    return np.column_stack(cols) if cols else np.zeros((window.size, 0))


def _extra(key: str, extra: dict[str, float] | str) -> float:
    if isinstance(extra, str):
        raise ValueError(extra)
    return extra[key]


def analysis(cfg: ModelConfig, section: BiasSection, window: LabelledWindow) -> dict[str, Any]:
    """Clarify's ``analysis.json`` (``pre_training_bias_metrics`` and ``post_training_bias_metrics``)."""
    lv = section.label_values_or_threshold
    if isinstance(lv, list):
        wanted = {norm_label(v) for v in lv}
        y_dist = _normalised(window.y_true)
        y_pos = _member(y_dist, wanted)
        p_pos = _member(_normalised(predicted_labels(cfg, window)), wanted)
        label_value = ",".join(lv)
    else:
        y_pos = np.asarray(window.y_true, dtype=np.float64) > lv
        p_pos = np.asarray(predicted_labels(cfg, window), dtype=np.float64) > lv
        y_dist = y_pos
        label_value = f"({lv:g}, inf)"
    # the label distribution metrics sort the labels: integer codes sort much faster than strings
    y_dist = np.unique(y_dist, return_inverse=True)[1].reshape(-1)
    label = "label"
    pre: dict[str, list[dict[str, Any]]] = {}
    post: dict[str, list[dict[str, Any]]] = {}
    groups = window.features.get(section.group_variable) if section.group_variable else None
    for facet in section.facets:
        mask, value = _facet_mask(facet, window.features[facet.name])
        pre_metrics = [
            _metric("CI", b.class_imbalance, mask),
            _metric("DPL", b.difference_in_proportions_of_labels, y_pos, mask, positive_label=None),
            _metric("KL", b.kl_divergence, y_dist, mask),
            _metric("JS", b.jensen_shannon_divergence, y_dist, mask),
            _metric("LP", b.lp_norm, y_dist, mask),
            _metric("TVD", b.total_variation_distance, y_dist, mask),
            _metric("KS", b.kolmogorov_smirnov, y_dist, mask),
        ]
        if groups is not None:
            pre_metrics.append(_metric("CDDL", conditional_demographic_disparity, mask, y_pos,
                                       np.asarray(groups).astype(str)))
        pre[facet.name] = [{"value_or_threshold": value, "metrics": pre_metrics}]
        try:  # the five count-based metrics from one pass over the rows
            extra: dict[str, float] | str = post_training_extra(mask, y_pos, p_pos)
        except ValueError as exc:
            extra = str(exc)
        post_metrics = [
            _metric("DPPL", b.difference_in_positive_proportions_in_predicted_labels, p_pos, mask,
                    positive_label=None),
            _metric("DI", b.disparate_impact, p_pos, mask, positive_label=None),
            _metric("DCAcc", _extra, "DCAcc", extra),
            _metric("DCR", _extra, "DCR", extra),
            _metric("RD", b.recall_difference, y_pos, p_pos, mask, positive_label=None),
            _metric("DAR", _extra, "DAR", extra),
            _metric("DRR", _extra, "DRR", extra),
            _metric("AD", b.accuracy_difference, y_pos, p_pos, mask, positive_label=None),
            _metric("TE", _extra, "TE", extra),
            _metric("FT", flip_test, flip_features(cfg, window, facet.name), mask, p_pos),
        ]
        post[facet.name] = [{"value_or_threshold": value, "metrics": post_metrics}]
    return {
        "version": "1.0",
        "pre_training_bias_metrics": {"label": label, "facets": pre, "label_value_or_threshold": label_value},
        "post_training_bias_metrics": {"label": label, "facets": post, "label_value_or_threshold": label_value},
    }


def breaches(section: BiasSection, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics outside the section's thresholds: ``{facet, facet_value, metric_name, value, min, max}``."""
    bounds = {t.metric: t for t in section.thresholds}
    out: list[dict[str, Any]] = []
    for stage in ("pre_training_bias_metrics", "post_training_bias_metrics"):
        for facet, groups in doc[stage]["facets"].items():
            for group in groups:
                for m in group["metrics"]:
                    t = bounds.get(m["name"])
                    if t is None or "value" not in m:
                        continue
                    v = m["value"]
                    if (t.min is not None and v < t.min) or (t.max is not None and v > t.max):
                        out.append({"facet": facet, "facet_value": group["value_or_threshold"],
                                    "metric_name": m["name"], "value": v, "min": t.min, "max": t.max})
    return out


#: the ``BiasStage`` dimension of each stage, spelled as Clarify's bias drift monitor documents it
BIAS_STAGES = {"pre_training_bias_metrics": "Pre-training", "post_training_bias_metrics": "Post-Training"}


def cloudwatch_metrics(doc: dict[str, Any], endpoint: str, schedule: str) -> list[dict[str, Any]]:
    """``PutMetricData`` entries (no timestamp) of an analysis, as Clarify's bias drift monitor names them:
    ``bias_metric_<NAME>`` with dimensions ``Endpoint``, ``MonitoringSchedule``, ``BiasStage``, ``Label``,
    ``LabelValue``, ``Facet``, ``FacetValue``. A metric carrying an error is not published (as Clarify). An infinite
    ratio carries an error in Driftline's analysis (JSON has no infinity), so it is not published either, where
    Clarify publishes it as +/-2.348543e108."""
    out: list[dict[str, Any]] = []
    for stage, stage_name in BIAS_STAGES.items():
        block = doc[stage]
        for facet, groups in block["facets"].items():
            for group in groups:
                dims = [{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule},
                        {"Name": "BiasStage", "Value": stage_name}, {"Name": "Label", "Value": block["label"]},
                        {"Name": "LabelValue", "Value": str(block["label_value_or_threshold"])},
                        {"Name": "Facet", "Value": facet}, {"Name": "FacetValue", "Value": group["value_or_threshold"]}]
                for m in group["metrics"]:
                    if "value" not in m:
                        continue
                    out.append({"MetricName": f"bias_metric_{m['name']}", "Dimensions": dims,
                                "Value": float(m["value"])})
    return out
