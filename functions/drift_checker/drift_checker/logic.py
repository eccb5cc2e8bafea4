"""Drift of a window's features against the training baseline.

Per feature, the test is chosen by type and sample size:

- numeric: two-sample Kolmogorov–Smirnov test of the window against the baseline's reference sample (exact
  null distribution while ``n_ref * n_cur <= 10^6``, the asymptotic one beyond), and the Population Stability
  Index of the window counted in the baseline's quantile bins as the effect size;
- categorical: chi-square test of homogeneity on the 2 × k table of category counts (baseline row, window
  row; categories with an expected count below 5 are pooled into one ``__other__`` column so the chi-square
  approximation holds on small samples), and the L-infinity distance between the category frequencies as the
  effect size (SageMaker Model Monitor's categorical check);
- fewer than :data:`MIN_SAMPLES` values in the window: no test (``insufficient_data``), never "drifted".

The p-values of the tested features are corrected for multiple testing (``drift.correction``:
Benjamini–Hochberg or Bonferroni). A feature drifts only if its corrected p-value is below ``drift.alpha``
AND its effect size reaches the threshold (``drift.psi`` for PSI; :data:`LINF_THRESHOLD` — Model Monitor's
default 0.1 — for L-infinity, or ``drift.linf`` if the config defines it). Requiring both matters: with tens
of thousands of rows a KS or chi-square test rejects for shifts far too small to matter, and retraining on
such "drift" would retrain for noise; the effect-size floor keeps only shifts big enough to act on, and the
test keeps a large-looking PSI on a handful of rows from counting.

The dataset drifts when the share of drifted features among the tested ones is at least ``drift.datasetShare``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from driftline_common.config import ModelConfig
from driftline_common.datasets import read_capture
from driftline_common.errors import BaselineNotFound, DataFormatError
from driftline_common.events import publish
from driftline_common.observability import add_metric, metrics
from driftline_common.runs import RunRef
from driftline_common.s3io import get_json, put_json, sanitize
from driftline_common.settings import Settings
from driftline_common.store import iso
from driftline_metrics.drift import (
    benjamini_hochberg,
    bonferroni,
    chi2_contingency,
    ks_2samp,
    linf_distance,
    psi_from_counts,
)

from drift_checker.baseline import SCHEMA, bin_counts

MIN_SAMPLES = 30
LINF_THRESHOLD = 0.1
EXACT_KS_MAX_PRODUCT = 1_000_000
MIN_EXPECTED = 5.0
#: drifted features whose effect size the compact summary carries (the policy compares them with acknowledged drift)
MAX_EFFECTS = 200


def numeric_drift(ref: dict[str, Any], current: np.ndarray) -> dict[str, Any]:
    """KS against the reference sample + PSI on the baseline's bins."""
    sample = np.asarray(ref["sample"], dtype=np.float64)
    n = int(current.size)
    method = "exact" if sample.size * n <= EXACT_KS_MAX_PRODUCT else "asymp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an exact computation that falls back to asymp
        ks = ks_2samp(sample, current, method=method)
    edges = np.asarray(ref["edges"], dtype=np.float64)
    cur_counts = bin_counts(current, edges)
    psi = psi_from_counts(np.asarray(ref["counts"], dtype=np.float64), cur_counts)
    return {
        "type": "numeric", "test": "ks_2samp", "method": method, "statistic": float(ks.statistic),
        "pvalue": float(ks.pvalue), "effect": "psi", "effectSize": float(psi),
        "reference": {"mean": ref.get("mean"), "std": ref.get("std"), "count": ref.get("count")},
        "current": {"mean": float(current.mean()), "std": float(current.std(ddof=1)) if n > 1 else 0.0,
                    "count": n, "counts": cur_counts.tolist()},
    }


def categorical_drift(ref: dict[str, Any], current: np.ndarray) -> dict[str, Any]:
    """Chi-square on the 2 × k table of category counts (rare categories pooled) + L-infinity distance."""
    cats, cur = np.unique(current.astype(str), return_counts=True)
    cur_counts = dict(zip(cats.tolist(), cur.astype(float).tolist(), strict=True))
    return categorical_drift_counts({str(k): float(v) for k, v in ref["counts"].items()}, cur_counts,
                                    int(current.size))


def counts_homogeneity(ref_counts: dict[str, float], cur_counts: dict[str, float]) -> dict[str, Any]:
    """Chi-square test of homogeneity of the 2 × k table (columns with an expected count below 5 pooled)."""
    names = sorted(set(ref_counts) | set(cur_counts))
    table = np.array([[ref_counts.get(c, 0.0) for c in names], [cur_counts.get(c, 0.0) for c in names]])
    linf = linf_distance(table[0], table[1])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    rare = expected.min(axis=0) < MIN_EXPECTED
    pooled = table
    if rare.any():
        pooled = np.column_stack([table[:, ~rare], table[:, rare].sum(axis=1)]) if (~rare).any() else table
    pooled = pooled[:, pooled.sum(axis=0) > 0]
    if pooled.shape[1] < 2:
        stat, p, dof = 0.0, 1.0, 0
    else:
        res = chi2_contingency(pooled, correction=False)
        stat, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
    return {"statistic": stat, "pvalue": p, "dof": dof, "pooledCategories": int(rare.sum()) if (~rare).any() else 0,
            "linf": float(linf)}


def categorical_drift_counts(ref_counts: dict[str, float], cur_counts: dict[str, float], n: int) -> dict[str, Any]:
    """:func:`categorical_drift` from the window's category counts (what a sharded run merges)."""
    h = counts_homogeneity(ref_counts, cur_counts)
    unseen = sorted(c for c in cur_counts if c not in ref_counts)
    return {
        "type": "categorical", "test": "chi2_contingency", "statistic": h["statistic"], "pvalue": h["pvalue"],
        "dof": h["dof"], "pooledCategories": h["pooledCategories"], "effect": "linf", "effectSize": h["linf"],
        "unseenCategories": unseen[:50],
        "current": {"count": int(n), "counts": {k: int(v) for k, v in sorted(cur_counts.items())[:200]}},
    }


def correct(pvalues: list[float], method: str) -> list[float]:
    if not pvalues:
        return []
    p = np.clip(np.asarray(pvalues, dtype=np.float64), 0.0, 1.0)
    if method == "bonferroni":
        return bonferroni(p).tolist()
    if method == "benjamini-hochberg":
        return benjamini_hochberg(p).tolist()
    return p.tolist()


def check_features(cfg: ModelConfig, baseline: dict[str, Any], features: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per-feature tests, correction and decisions (pure; the full drift document without I/O fields)."""
    base_features = baseline.get("features") or {}
    per: dict[str, dict[str, Any]] = {}
    for feat in cfg.features:
        ref = base_features.get(feat.name)
        values = features.get(feat.name, np.zeros(0))
        if ref is None:
            per[feat.name] = {"type": feat.type, "status": "not_in_baseline", "drifted": False}
            continue
        if ref.get("type") != feat.type:
            per[feat.name] = {"type": feat.type, "status": "type_mismatch", "drifted": False,
                              "baselineType": ref.get("type")}
            continue
        if values.size < MIN_SAMPLES:
            per[feat.name] = {"type": feat.type, "status": "insufficient_data", "drifted": False,
                              "current": {"count": int(values.size)}}
            continue
        res = numeric_drift(ref, values) if feat.type == "numeric" else categorical_drift(ref, values)
        per[feat.name] = {"status": "tested", **res}
    return decide_features(cfg, per)


def decide_features(cfg: ModelConfig, per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Multiple-testing correction, per-feature and dataset decisions over the per-feature results."""
    drift = cfg.drift
    linf_threshold = float(getattr(drift, "linf", LINF_THRESHOLD))
    tested = [name for name, r in per.items() if r["status"] == "tested"]
    adjusted = correct([per[n]["pvalue"] for n in tested], drift.correction)
    for name, p_adj in zip(tested, adjusted, strict=True):
        r = per[name]
        threshold = drift.psi if r["type"] == "numeric" else linf_threshold
        r["pvalueAdjusted"] = p_adj
        r["effectThreshold"] = threshold
        r["significant"] = bool(p_adj < drift.alpha)
        r["largeEffect"] = bool(math.isfinite(r["effectSize"]) and r["effectSize"] >= threshold)
        r["drifted"] = r["significant"] and r["largeEffect"]
    drifted = [n for n in tested if per[n]["drifted"]]
    share = len(drifted) / len(tested) if tested else 0.0
    return {
        "status": "ok" if tested else "insufficient_data",
        "detected": bool(tested) and share >= drift.dataset_share,
        "driftedFeatures": drifted,
        "share": share,
        "testedFeatures": len(tested),
        "correction": drift.correction,
        "alpha": drift.alpha,
        "psiThreshold": drift.psi,
        "linfThreshold": linf_threshold,
        "datasetShare": drift.dataset_share,
        "features": per,
    }


def load_baseline(cfg: ModelConfig) -> dict[str, Any]:
    try:
        doc = get_json(cfg.baseline_uri)
    except FileNotFoundError:
        raise BaselineNotFound(
            f"no drift baseline for model {cfg.model_id!r} at {cfg.baseline_uri}; build it with the "
            "'build_baseline' action or `python -m drift_checker.baseline`",
            modelId=cfg.model_id, baselineUri=cfg.baseline_uri,
        ) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("features"), dict):
        raise DataFormatError(f"{cfg.baseline_uri} is not a Driftline baseline ({SCHEMA})", uri=cfg.baseline_uri)
    return doc


def run_check(settings: Settings, cfg: ModelConfig, run: RunRef) -> dict[str, Any]:
    """Check the window's drift; full result to S3; compact summary; ``Drift Detected`` when detected."""
    baseline = load_baseline(cfg)
    captured = read_capture(cfg, run.start, run.end, cache=run.prefix(settings.bucket).child("window"))
    doc = check_features(cfg, baseline, captured.features)
    bad = dict(sorted(captured.bad.items()))
    doc.update(modelId=run.model_id, runId=run.run_id, window={"start": iso(run.start), "end": iso(run.end)},
               sampleSize=len(captured), badRecords=sum(bad.values()), badRecordReasons=bad,
               files=captured.files, baselineUri=cfg.baseline_uri, baselineCreatedAt=baseline.get("createdAt"))
    return publish_check(settings, run, doc)


def publish_check(settings: Settings, run: RunRef, doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Write ``drift.json``, emit the drift metrics, publish ``Drift Detected`` when any feature drifted (with
    ``datasetDrift``: whether the share of drifted features reached ``datasetShare``); the compact summary, with
    the drifted features' effect sizes (``extra`` — e.g. the sharding block of a reduced run — is added to it)."""
    result_uri = put_json(run.prefix(settings.bucket).child("drift.json"), doc)
    summary = sanitize({
        "status": doc["status"], "detected": doc["detected"], "driftedFeatures": doc["driftedFeatures"],
        "share": doc["share"], "testedFeatures": doc["testedFeatures"], "sampleSize": doc["sampleSize"],
        "badRecords": doc["badRecords"], "correction": doc["correction"], "alpha": doc["alpha"],
        "effects": {n: doc["features"][n].get("effectSize") for n in doc["driftedFeatures"][:MAX_EFFECTS]},
        "resultUri": result_uri, **extra,
    })
    metrics.add_dimension(name="modelId", value=run.model_id)
    metrics.add_metric(name="DriftedFeatures", unit=MetricUnit.Count, value=len(doc["driftedFeatures"]))
    add_metric("DriftShare", doc["share"])  # through the CloudWatch number boundary
    metrics.add_metric(name="DriftSampleSize", unit=MetricUnit.Count, value=doc["sampleSize"])
    if doc["driftedFeatures"]:  # any drifted feature alerts; ``datasetDrift`` says whether the dataset drifted
        top = {n: {k: doc["features"][n].get(k) for k in ("test", "pvalueAdjusted", "effect", "effectSize")}
               for n in doc["driftedFeatures"][:20]}
        publish(settings, "Drift Detected", {"modelId": run.model_id, "runId": run.run_id, **summary,
                                             "datasetDrift": bool(doc["detected"]),
                                             "datasetShare": doc["datasetShare"], "features": top})
    return summary
