"""Sharded drift check: per-shard feature histograms and category counts, merged and tested by a reduce step.

In a sharded run (see :mod:`metric_evaluator.shards`) every child workflow of the Distributed Map runs
``check_shard`` on a batch of capture objects: it counts each numeric feature in the baseline's fixed bins
(:class:`~driftline_metrics.partial.HistogramState`) and each categorical feature's categories
(:class:`~driftline_metrics.partial.CategoricalCountState`), and writes the states to
``runs/<modelId>/<runId>/shards/drift/<shardId>.json``. ``reduce`` merges them and returns the summary of
``check`` (same keys, plus ``sharding``).

Binned statistics (the merged states hold counts, not the values):

- numeric features: the test is the chi-square test of homogeneity of the 2 × bins table (baseline counts,
  window counts; bins with an expected count below 5 pooled), instead of the one-shot path's two-sample KS test
  on the raw values; the effect size is the same PSI on the same bins (equal to the one-shot PSI). Also
  reported: ``ks_binned`` (the KS statistic at the bin edges, a lower bound of the exact one), the
  Jensen–Shannon distance and the L-infinity distance of the bin proportions;
- categorical features: exactly the one-shot test (chi-square on the category counts, L-infinity effect size).

The result says so: ``method`` is ``"binned"`` in ``drift.json`` and ``sharding.method`` in the summary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from driftline_common import dq_summary, dq_window
from driftline_common.config import ModelConfig
from driftline_common.datasets import capture_keys_in_window, read_capture_keys
from driftline_common.errors import DataFormatError
from driftline_common.runs import RunRef
from driftline_common.s3io import put_json
from driftline_common.settings import Settings
from driftline_common.shards import item_keys, load_shards, shard_id
from driftline_common.store import iso
from driftline_metrics.drift import psi_from_counts
from driftline_metrics.partial import CategoricalCountState, HistogramState, merge_states

from drift_checker.logic import (
    MIN_SAMPLES,
    categorical_drift_counts,
    counts_homogeneity,
    decide_features,
    load_baseline,
    publish_check,
)

SHARD_SCHEMA = "driftline.drift-shard/v1"
METHOD = ("binned: numeric features chi-square on the baseline's bins (+ PSI, Jensen-Shannon, L-inf, "
          "ks_binned); categorical features chi-square on the category counts (+ L-inf), as unsharded")


def _usable(ref: dict[str, Any] | None, ftype: str) -> bool:
    return ref is not None and ref.get("type") == ftype


def shard_states(cfg: ModelConfig, baseline: dict[str, Any], features: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per feature, the mergeable state of one shard's values (features the baseline cannot test: ``None``)."""
    base_features = baseline.get("features") or {}
    out: dict[str, Any] = {}
    for feat in cfg.features:
        ref = base_features.get(feat.name)
        values = features.get(feat.name, np.zeros(0))
        if not _usable(ref, feat.type):
            out[feat.name] = None
        elif feat.type == "numeric":
            edges = np.asarray((ref or {}).get("edges") or [], dtype=np.float64)
            if edges.size == 0:  # a constant reference: one bin
                out[feat.name] = {"kind": "count", "n": int(values.size)}
            else:
                out[feat.name] = HistogramState(edges).update(np.asarray(values, dtype=np.float64)).to_dict()
        else:
            out[feat.name] = CategoricalCountState().update(np.asarray(values).astype(str)).to_dict()
    return out


def data_quality_summaries(cfg: ModelConfig, run: RunRef, keys: list[str], features: dict[str, np.ndarray],
                           bad: Counter[str]) -> dict[str, Any]:
    """Per feature, the shard's mergeable data-quality summary (:mod:`driftline_common.dq_summary`), the rows
    rejected for a missing or non-numeric value included; the monitor step merges them."""
    out = {f.name: dq_summary.of_values(f.type, features.get(f.name, np.zeros(0)), sketch=dq_summary.SHARD_SKETCH)
           for f in cfg.features}
    if any(bad.get(r, 0) for r in dq_window.VALUE_REASONS):
        found, partial = dq_window.rejected_rows(cfg, run.start, run.end, keys=keys)
        if found:
            out = {name: dq_summary.merge([s, partial[name]]) for name, s in out.items()}
    return {name: dq_summary.to_json(s) for name, s in out.items()}


def check_shard(settings: Settings, cfg: ModelConfig, run: RunRef, items: Any) -> dict[str, Any]:
    """``check_shard``: one child workflow of the Distributed Map; writes the shard's states."""
    keys = item_keys(items)
    baseline = load_baseline(cfg)
    mine = capture_keys_in_window(cfg, keys, run.start, run.end)
    sid = shard_id(keys)
    captured = read_capture_keys(cfg, mine, run.start, run.end)
    doc = {"schema": SHARD_SCHEMA, "shardId": sid, "sampleSize": len(captured), "files": len(mine),
           "skippedFiles": len(keys) - len(mine), "bad": dict(sorted(captured.bad.items())),
           "features": shard_states(cfg, baseline, captured.features),
           "dataQuality": data_quality_summaries(cfg, run, mine, captured.features, captured.bad)}
    uri = put_json(run.prefix(settings.bucket).child("shards", "drift", f"{sid}.json"), doc)
    return {"shardId": sid, "stateUri": uri, "sampleSize": len(captured), "files": len(mine)}


def merge_feature(cfg_type: str, ref: dict[str, Any], states: list[Any]) -> dict[str, Any]:
    """The binned test of one feature over the merged shard states."""
    if cfg_type == "numeric":
        if all(isinstance(s, dict) and s.get("kind") == "count" for s in states):
            n = sum(int(s["n"]) for s in states)
            if n < MIN_SAMPLES:
                return {"type": "numeric", "status": "insufficient_data", "drifted": False, "current": {"count": n}}
            return {"status": "tested", "type": "numeric", "test": "chi2_binned", "statistic": 0.0, "pvalue": 1.0,
                    "dof": 0, "effect": "psi", "effectSize": 0.0, "binned": True, "current": {"count": n}}
        merged = merge_states(states)
        cur = merged.counts.astype(np.float64)
        n = int(cur.sum())
        if n < MIN_SAMPLES:
            return {"type": "numeric", "status": "insufficient_data", "drifted": False, "current": {"count": n}}
        ref_counts = np.asarray(ref["counts"], dtype=np.float64)
        reference = HistogramState(merged.edges)
        reference.counts = ref_counts.astype(np.int64)
        dist = merged.compare(reference)
        h = counts_homogeneity({str(i): float(v) for i, v in enumerate(ref_counts)},
                               {str(i): float(v) for i, v in enumerate(cur)})
        return {
            "status": "tested", "type": "numeric", "test": "chi2_binned", "statistic": h["statistic"],
            "pvalue": h["pvalue"], "dof": h["dof"], "pooledBins": h["pooledCategories"], "effect": "psi",
            "effectSize": float(psi_from_counts(ref_counts, cur)), "binned": True,
            "ksBinned": dist["ks_binned"], "jensenShannon": dist["jensen_shannon"], "linf": dist["linf"],
            "reference": {"mean": ref.get("mean"), "std": ref.get("std"), "count": ref.get("count")},
            "current": {"count": n, "counts": [int(c) for c in cur]},
        }
    merged_c = merge_states(states)
    counts = {str(k): float(v) for k, v in merged_c.counts.items()}
    n = int(sum(counts.values()))
    if n < MIN_SAMPLES:
        return {"type": "categorical", "status": "insufficient_data", "drifted": False, "current": {"count": n}}
    ref_cats = {str(k): float(v) for k, v in ref["counts"].items()}
    ref_state = CategoricalCountState()
    ref_state.counts = Counter({k: int(v) for k, v in ref_cats.items()})
    res = categorical_drift_counts(ref_cats, counts, n)
    res["jensenShannon"] = merged_c.compare(ref_state)["jensen_shannon"]
    return {"status": "tested", **res}


def merge_shards(cfg: ModelConfig, baseline: dict[str, Any], shards: list[dict[str, Any]]) -> dict[str, Any]:
    """The drift document (as :func:`~drift_checker.logic.check_features`) of merged shard documents."""
    for d in shards:
        if not isinstance(d, dict) or d.get("schema") != SHARD_SCHEMA:
            raise DataFormatError(f"not a drift shard ({SHARD_SCHEMA})")
    base_features = baseline.get("features") or {}
    per: dict[str, dict[str, Any]] = {}
    for feat in cfg.features:
        ref = base_features.get(feat.name)
        if ref is None:
            per[feat.name] = {"type": feat.type, "status": "not_in_baseline", "drifted": False}
            continue
        if ref.get("type") != feat.type:
            per[feat.name] = {"type": feat.type, "status": "type_mismatch", "drifted": False,
                              "baselineType": ref.get("type")}
            continue
        states = [d["features"].get(feat.name) for d in shards]
        if not states:
            per[feat.name] = {"type": feat.type, "status": "insufficient_data", "drifted": False,
                              "current": {"count": 0}}
            continue
        if any(s is None for s in states):
            raise DataFormatError(f"a shard holds no state of feature {feat.name!r}")
        per[feat.name] = merge_feature(feat.type, ref, states)
    doc = decide_features(cfg, per)
    doc["method"] = "binned"
    return doc


def run_reduce(settings: Settings, cfg: ModelConfig, run: RunRef, results: Any) -> dict[str, Any]:
    """``reduce``: merge the shards; ``drift.json``; the ``check`` summary; ``Drift Detected`` when detected."""
    baseline = load_baseline(cfg)
    shards = load_shards(results)
    doc = merge_shards(cfg, baseline, shards)
    bad: Counter[str] = Counter()
    for d in shards:
        bad.update({k: int(v) for k, v in (d.get("bad") or {}).items()})
    sharding = {"shards": len(shards), "files": sum(int(d.get("files", 0)) for d in shards), "method": METHOD}
    doc.update(modelId=run.model_id, runId=run.run_id, window={"start": iso(run.start), "end": iso(run.end)},
               sampleSize=sum(int(d["sampleSize"]) for d in shards), badRecords=sum(bad.values()),
               badRecordReasons=dict(sorted(bad.items())), files=sharding["files"], baselineUri=cfg.baseline_uri,
               baselineCreatedAt=baseline.get("createdAt"), sharding=sharding)
    return publish_check(settings, run, doc, sharding=sharding)
