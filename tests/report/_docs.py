"""Run documents for the report tests, produced by the real evaluator and drift decision on synthetic windows."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from drift_checker.logic import decide_features
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow
from driftline_common.s3io import sanitize
from metric_evaluator.evaluate import evaluate_window

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json"


def config(kind: str) -> dict[str, Any]:
    body = json.loads(FIXTURE.read_text())
    body["modelId"] = f"report-{kind}"
    if kind == "multiclass":
        body.update(problemType="multiclass", labels=["cat", "dog", "bird"],
                    thresholds=[{"metric": "accuracy", "min": 0.7}, {"metric": "f1", "min": 0.6}])
        body.pop("positiveLabel", None)
        body["promotion"]["metric"] = "accuracy"
    elif kind == "regression":
        body.update(problemType="regression", thresholds=[{"metric": "rmse", "max": 1.2}, {"metric": "r2", "min": 0.5}])
        for k in ("labels", "positiveLabel", "decisionThreshold"):
            body.pop(k, None)
        body["promotion"]["metric"] = "rmse"
    return body


def window(kind: str, n: int = 2000, seed: int = 0, *, one_class: bool = False,
           labelled: bool = True) -> LabelledWindow:
    rng = np.random.default_rng(seed)
    if not labelled:
        n = 0
    if kind == "binary":
        y = (rng.random(n) < (0.0 if one_class else 0.3)).astype(int)
        s = np.clip(0.3 * y + rng.beta(2, 4, n), 0, 1)
        y_true, scores, pred = y.astype(str), s, (s > 0.5).astype(int).astype(str)
    elif kind == "multiclass":
        labels = np.array(["cat", "dog", "bird"])
        yi = rng.choice(3, n, p=[0.5, 0.3, 0.2])
        logits = rng.normal(0, 1, (n, 3))
        logits[np.arange(n), yi] += 1.5
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y_true, scores, pred = labels[yi], p, labels[p.argmax(axis=1)]
    else:
        y = rng.normal(10, 2, n)
        s = y + rng.normal(0, 1, n)
        y_true, scores, pred = y, s, s.astype(str)
    return LabelledWindow(ids=np.array([str(i).encode() for i in range(n)], dtype="S"), y_true=y_true,
                          scores=scores, predicted=pred, features={},
                          bad_capture=Counter({"not_json": 3, "missing_inference_id": 1}),
                          bad_ground_truth=Counter({"unknown_label": 2}), unmatched=5, unlabelled=40)


def evaluation(kind: str, seed: int = 0, **kw: Any) -> dict[str, Any]:
    body = config(kind)
    cfg = parse_config(copy.deepcopy(body), model_id=body["modelId"])
    doc = evaluate_window(cfg, window(kind, seed=seed, **kw))
    doc.update(modelId=body["modelId"], problemType=kind,
               window={"start": f"2026-11-{10 + seed:02d}T00:00:00Z", "end": f"2026-11-{11 + seed:02d}T00:00:00Z"})
    return sanitize(doc)


def drift(kind: str, seed: int = 0) -> dict[str, Any]:
    body = config(kind)
    cfg = parse_config(copy.deepcopy(body), model_id=body["modelId"])
    rng = np.random.default_rng(100 + seed)
    per: dict[str, dict[str, Any]] = {}
    for f in body["features"]:
        shift = seed * 0.08 if f["name"] in ("f0", "f5") else 0.0
        if f["type"] == "numeric":
            per[f["name"]] = {"status": "tested", "type": "numeric", "test": "ks_2samp",
                              "pvalue": float(10 ** -(seed * 3 * (shift > 0)) * rng.uniform(0.05, 0.9)),
                              "effect": "psi", "effectSize": float(shift + rng.uniform(0, 0.03))}
        else:
            per[f["name"]] = {"status": "tested", "type": "categorical", "test": "chi2_contingency",
                              "pvalue": float(10 ** -(seed * 3) * rng.uniform(0.05, 0.9)),
                              "effect": "linf", "effectSize": float(shift * 0.8 + rng.uniform(0, 0.02))}
    doc = decide_features(cfg, per)
    doc.update(sampleSize=2000, badRecords=1, badRecordReasons={"not_json": 1})
    return sanitize(doc)


def run_record(kind: str, seed: int, **kw: Any) -> dict[str, Any]:
    ev = evaluation(kind, seed)
    rec = {"modelId": f"report-{kind}", "runId": f"run-{seed:03d}", "status": "SUCCEEDED", "outcome": "no_retrain",
           "window": ev["window"], "metrics": ev["metrics"], "sampleSize": ev["sampleSize"], "evaluation": ev}
    rec.update(kw)
    return rec
